import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  XgAccessError,
  XgAuthError,
  XgConflictError,
  XgError,
  XgNotFoundError,
  XgOperationError,
  XgReferencedError,
  XgRequestError,
  XgTimeoutError,
  XgTransportError,
  XgValidationError,
  errorForStatus,
  isSuccessStatus,
} from '../../src/xg/errors.js';

describe('errorForStatus', () => {
  it.each([
    [500, XgOperationError, true],
    [501, XgValidationError, false],
    [502, XgConflictError, false],
    [503, XgConflictError, false],
    [504, XgReferencedError, false],
    [509, XgReferencedError, false],
    [510, XgReferencedError, false],
    [526, XgNotFoundError, false],
    [528, XgNotFoundError, false],
    [529, XgRequestError, false],
    [532, XgAccessError, false],
    [534, XgAccessError, false],
    [541, XgOperationError, false],
    [599, XgOperationError, false],
  ])('maps %i to the right class and retry flag', (code, cls, retryable) => {
    const e = errorForStatus(code, 'some text', { op: 'add', entity: 'IPHost', name: 'f2b_192.0.2.1' });
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(XgError);
    expect(e.retryable).toBe(retryable);
    expect(e.xgStatus).toBe(code);
    expect(e.message).toContain(`XG ${code} "some text"`);
    expect(e.message).toContain('on add IPHost f2b_192.0.2.1');
  });

  it('maps code-less texts', () => {
    expect(errorForStatus(undefined, 'Authentication Failure')).toBeInstanceOf(XgAuthError);
    expect(errorForStatus(undefined, 'API operations are not allowed from the requester IP address').code).toBe('XG_IP_NOT_ALLOWED');
    expect(errorForStatus(undefined, 'You need to enable the API Configuration.').code).toBe('XG_API_DISABLED');
    expect(errorForStatus(undefined, 'There is no API Version')).toBeInstanceOf(XgRequestError);
    expect(errorForStatus(undefined, 'Transaction fail').code).toBe('XG_TRANSACTION_FAIL');
    expect(errorForStatus(undefined, 'something new').code).toBe('XG_NO_STATUS_CODE');
  });

  it('tells the admin what to do for 532/534', () => {
    expect(errorForStatus(534, 'x').message).toMatch(/allow-list/);
    expect(errorForStatus(532, 'x').message).toMatch(/enable the API/);
  });

  it('knows the success codes', () => {
    expect([200, 201, 202, 216].every(isSuccessStatus)).toBe(true);
    expect([undefined, 217, 500].some(isSuccessStatus)).toBe(false);
  });

  it('transport and timeout errors are retryable; inspect shows no cause internals', () => {
    const cause = Object.assign(new Error('socket hang up'), { body: 'reqxml=<Password>secret</Password>' });
    const t = new XgTransportError('cannot reach', { cause });
    expect(t.retryable).toBe(true);
    expect(new XgTimeoutError('slow').retryable).toBe(true);
    const shown = inspect(t);
    expect(shown).toContain('socket hang up');
    expect(shown).not.toContain('secret');
    expect(String(t)).toBe('XgTransportError: cannot reach');
  });
});
