/**
 * The Debian metadata of the package: control, maintainer scripts, copyright, changelog, and the
 * man page rendered from the program's own --help. Pure text builders; scripts/package.ts writes them.
 */

export const NAME = 'f2b-sophosxg';
export const LIB = `/usr/lib/${NAME}`;
const MAINTAINER = 'f2b-sophosxg maintainers <f2b-sophosxg@users.noreply.github.com>';
const HOMEPAGE = 'https://github.com/f2b-sophosxg/f2b-sophosxg';

export interface ControlInput {
  version: string;
  arch: string;
  installedKiB: number;
  depends: string;
}

export function control(c: ControlInput): string {
  return [
    `Package: ${NAME}`,
    `Version: ${c.version}`,
    `Architecture: ${c.arch}`,
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${c.installedKiB}`,
    `Depends: ${c.depends}`,
    'Suggests: fail2ban',
    'Section: net',
    'Priority: optional',
    `Homepage: ${HOMEPAGE}`,
    'Description: mirror fail2ban bans into Sophos Firewall IP host groups',
    ' A sidecar that follows the fail2ban log and keeps IP host groups on a',
    ' Sophos Firewall (XG/SFOS) equal to the addresses fail2ban bans, through',
    " the firewall's XML API. It batches writes, survives restarts, and never",
    ' lifts a ban it is unsure of.',
    ' .',
    ' The package carries its own Node.js runtime under /usr/lib/f2b-sophosxg',
    ' and needs no Node.js or npm on the host.',
    '',
  ].join('\n');
}

const UNIT = `${NAME}.service`;

/** Never enables or starts the unit: it needs /etc/f2b-sophosxg/config.yaml and a password first. */
export const POSTINST = `#!/bin/sh
set -e
# The service is not enabled or started here: it needs /etc/f2b-sophosxg/config.yaml and the
# firewall's API password, which only the administrator can write (see
# /usr/share/doc/${NAME}/config.example.yaml), then: systemctl enable --now ${UNIT}
if [ "$1" = "configure" ] && [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
  # An upgrade restarts a sidecar that is running, so the new version takes over; it flushes its
  # pending changes and checkpoints on SIGTERM.
  if [ -n "$2" ]; then
    deb-systemd-invoke try-restart ${UNIT} >/dev/null || true
  fi
fi
exit 0
`;

export const PRERM = `#!/bin/sh
set -e
if [ "$1" = "remove" ] && [ -d /run/systemd/system ]; then
  deb-systemd-invoke stop ${UNIT} >/dev/null || true
fi
exit 0
`;

/** Purge removes the state (a DynamicUser= service keeps it in /var/lib/private/, reached by a symlink). */
export const POSTRM = `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = "purge" ]; then
  rm -rf /var/lib/${NAME} /var/lib/private/${NAME}
  if command -v deb-systemd-helper >/dev/null 2>&1; then
    deb-systemd-helper purge ${UNIT} >/dev/null || true
  fi
  # Enabled with systemctl by the administrator: the link would point at a removed unit.
  rm -f /etc/systemd/system/multi-user.target.wants/${UNIT}
  # /etc/${NAME} holds the administrator's config and password file, which the package never
  # wrote: it is left alone (removed only when empty).
  rmdir /etc/${NAME} 2>/dev/null || true
fi
exit 0
`;

export interface CopyrightInput {
  year: number;
  /** npm packages in the bundle, with their declared licenses. */
  packages: { name: string; license: string }[];
  nodeVersion: string;
  nodeLicense: string;
  mitText: string;
}

const indent = (text: string): string =>
  text
    .trim()
    .split('\n')
    .map((l) => (l.trim() === '' ? ' .' : ` ${l}`))
    .join('\n');

export function copyright(c: CopyrightInput): string {
  const npm = c.packages.map((p) => `  ${p.name} (${p.license})`).join('\n');
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    `Upstream-Name: ${NAME}`,
    `Source: ${HOMEPAGE}`,
    '',
    'Files: *',
    `Copyright: ${c.year} f2b-sophosxg contributors`,
    'License: Expat',
    '',
    `Files: ${LIB}/dist/*`,
    `Copyright: ${c.year} f2b-sophosxg contributors, and the authors of the bundled npm packages:`,
    npm,
    'License: Expat and ISC and Apache-2.0 and BSD-3-Clause',
    ' Each bundled npm package is under the license named beside it above;',
    ' the texts of Expat and ISC are below, the others are in',
    ' /usr/share/common-licenses/.',
    '',
    `Files: ${LIB}/node`,
    `Copyright: Node.js contributors (Node.js ${c.nodeVersion}) and the projects it includes`,
    'License: Node.js',
    indent(c.nodeLicense),
    '',
    'License: Expat',
    indent(c.mitText),
    '',
    'License: ISC',
    ' Permission to use, copy, modify, and/or distribute this software for any',
    ' purpose with or without fee is hereby granted, provided that the above',
    ' copyright notice and this permission notice appear in all copies.',
    ' .',
    ' THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES',
    ' WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF',
    ' MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR',
    ' ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES',
    ' WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN',
    ' ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF',
    ' OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.',
    '',
  ].join('\n');
}

/**
 * Tags that the bundled runtime raises, each with its reason. The Node.js binary is the one the
 * project is built and tested with: it embeds its own zlib and is linked without PIE upstream, and
 * its license file (quoted whole in copyright) carries the Apache-2.0 text and an old FSF address.
 * The changelog is not a Debian upload, so it closes no bug.
 */
export const LINTIAN_OVERRIDES = [
  `# The private Node.js runtime (${LIB}/node) is upstream's build: it embeds its own zlib.`,
  `embedded-library zlib [usr/lib/${NAME}/node]`,
  '# Upstream Node.js is linked without PIE; rebuilding the runtime is out of scope.',
  `hardening-no-pie [usr/lib/${NAME}/node]`,
  "# Node.js's license file, quoted whole for the bundled runtime, contains these texts.",
  'copyright-file-contains-full-apache-2-license',
  'old-fsf-address-in-copyright-file',
  '# Built outside Debian: no ITP bug to close.',
  'initial-upload-closes-no-bugs',
  '',
].join('\n');

export function changelog(version: string, date: Date): string {
  // RFC 5322 date, as dpkg-parsechangelog expects.
  const d = date.toUTCString().replace(/GMT$/, '+0000');
  return [
    `${NAME} (${version}) unstable; urgency=medium`,
    '',
    '  * Built by scripts/package.ts from the upstream release.',
    '',
    ` -- ${MAINTAINER}  ${d}`,
    '',
  ].join('\n');
}

/** Escapes a line for roff: backslashes, and a leading dot or quote that would start a request. */
function roff(line: string): string {
  const s = line.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(s) ? `\\&${s}` : s;
}

export interface HelpPage {
  command: string;
  text: string;
}

/** A man page (section 1) from the program's --help and each command's --help. */
export function manPage(version: string, date: Date, top: string, commands: HelpPage[]): string {
  const verbatim = (text: string): string[] => ['.nf', ...text.trimEnd().split('\n').map(roff), '.fi'];
  const day = date.toISOString().slice(0, 10);
  return [
    `.TH F2B\\-SOPHOSXG 1 "${day}" "${NAME} ${version}" "User Commands"`,
    '.SH NAME',
    `${NAME} \\- mirror fail2ban bans into IP host groups on a Sophos Firewall (XG/SFOS)`,
    '.SH SYNOPSIS',
    `.B ${NAME}`,
    '.I command',
    '[\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    ...verbatim(top),
    '.SH COMMANDS',
    ...commands.flatMap((c) => [`.SS ${roff(c.command)}`, ...verbatim(c.text)]),
    '.SH FILES',
    '.TP',
    `.I /etc/${NAME}/config.yaml`,
    `the configuration the systemd unit uses; an example is in /usr/share/doc/${NAME}/config.example.yaml`,
    '.TP',
    `.I /var/lib/${NAME}`,
    'the state directory: desired bans and the log checkpoint',
    '.TP',
    '.I /etc/fail2ban/action.d/sophosxg.conf',
    'a fail2ban action that calls this program once per event',
    '.SH SEE ALSO',
    '.BR fail2ban\\-client (1),',
    '.BR systemctl (1)',
    '',
  ].join('\n');
}
