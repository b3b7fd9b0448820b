/** A Get request's <Filter><key name=… criteria=…>value</key></Filter>, shared by the emulator's entity tables. */
export interface Filter {
  key: string;
  criteria: string;
  value: string;
}
