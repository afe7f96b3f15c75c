/**
 * The CTS error catalog (spec cts-api.md §4): every code the service can answer with, its HTTP
 * status and its message. The core raises these; the API layer only serialises them as
 * `{"error_code","error_msg"}`. Messages are the literal texts of the OTC error table so that
 * clients matching on them keep working.
 *
 * Codes CTS.9xxx are OpenCTS extensions for failures the CTS table has no code for (transport
 * and framework level: unknown route, wrong method, oversized body, authentication). Real CTS
 * answers those from its API gateway with APIGW.* codes; we keep one CTS.* namespace instead.
 */
export interface CatalogEntry {
  readonly status: number;
  readonly message: string;
}

export const ERROR_CATALOG = {
  'CTS.0001': { status: 400, message: 'IAM or OBS exception, please check.' },
  'CTS.0002': {
    status: 403,
    message: 'The user fails the authentication or does not have permission to this operation.',
  },
  'CTS.0003': { status: 400, message: 'Invalid message body. The message body is empty or invalid.' },
  'CTS.0004': { status: 500, message: 'Data write exception.' },
  'CTS.0005': { status: 500, message: 'Data read exception.' },
  'CTS.0012': { status: 403, message: 'Invalid project ID. Check whether the project ID is correct.' },
  'CTS.0013': { status: 403, message: 'No permission, Please check roles.' },
  'CTS.0056': { status: 400, message: 'Failed to create lts trace analysis.' },
  'CTS.0100': { status: 404, message: 'CTS does not support API interface version query.' },
  'CTS.0200': { status: 400, message: 'Tracker number is Maximum.' },
  'CTS.0201': { status: 400, message: 'A management tracker has been created.' },
  'CTS.0202': {
    status: 400,
    message: 'Invalid message body. Tracker tracker_type must be either system or data.',
  },
  'CTS.0203': {
    status: 400,
    message:
      'Invalid message body. The tracker_name is a string of 1 to 32 characters and cannot start with underscores or hyphens.',
  },
  'CTS.0204': {
    status: 400,
    message: 'The tracker_name parameter of a management tracker can only be set to system.',
  },
  'CTS.0205': {
    status: 400,
    message: 'Invalid message body. Tracker status is required and value must be either enabled or disabled.',
  },
  'CTS.0206': { status: 400, message: 'Invalid message body. The data_bucket is not need.' },
  'CTS.0207': {
    status: 400,
    message: 'Invalid message body. The tracker_name value cannot be system or system-trace.',
  },
  'CTS.0208': { status: 400, message: 'The tracker already exists.' },
  'CTS.0209': {
    status: 400,
    message: 'You cannot create different trackers to record the same type of operations on the same OBS bucket.',
  },
  'CTS.0210': {
    status: 400,
    message: 'Invalid message body. The OBS bucket for which data operations are to be recorded can not be empty.',
  },
  'CTS.0211': { status: 400, message: 'Check bucket failed.The bucket is not exist.' },
  'CTS.0212': { status: 400, message: 'The tracked OBS bucket can not be modify.' },
  'CTS.0213': {
    status: 400,
    message:
      'Invalid message body. The OBS bucket for which data operations are to be recorded and the OBS bucket configured for storing transferred traces cannot be the same.',
  },
  'CTS.0214': { status: 404, message: 'The tracker does not exist.' },
  'CTS.0215': { status: 400, message: 'Check bucket failed.The bucket is already exist.' },
  'CTS.0216': { status: 400, message: 'Create bucket failed.' },
  'CTS.0217': { status: 400, message: 'Set bucket life cycle failed. Contact O&M personnel.' },
  'CTS.0218': {
    status: 400,
    message:
      'Invalid message body. The file_prefix_name is a string of 0 to 64 characters and can only contain uppercase letters, lowercase letters, digits, hyphens, underscores and periods.',
  },
  'CTS.0219': { status: 400, message: 'The bucket operation cannot be empty.' },
  'CTS.0220': { status: 400, message: 'KMS is not supported.' },
  'CTS.0221': { status: 400, message: 'The KMS ID is empty.' },
  'CTS.0222': { status: 400, message: 'Failed to obtain key list from KMS.' },
  'CTS.0225': { status: 400, message: 'The Bucket operation must be WRITE or READ or WRITE,READ.' },
  'CTS.0228': { status: 400, message: 'The CTS service is not trusted.' },
  'CTS.0229': { status: 400, message: 'The organization tracker already exists.' },
  'CTS.0231': {
    status: 400,
    message:
      'Invalid bucket name. A bucket name must be a string of 3 to 63 characters, including only lowercase letters, digits, hyphens (-), or periods (.). It must start with a digit or a lowercase letter.',
  },
  'CTS.0300': { status: 400, message: 'Query data failed.' },
  'CTS.0400': { status: 400, message: 'Notification name is existed already.' },
  'CTS.0401': { status: 400, message: 'Invalid message body. The operations parameter value is invalid.' },
  'CTS.0402': { status: 400, message: 'The Smn topic does not exist.' },
  'CTS.0403': { status: 404, message: 'The notification does not exist.' },
  'CTS.0404': { status: 400, message: 'State setting failed, check if topicId exists.' },
  'CTS.0407': { status: 400, message: 'The quantity has exceeded the maximum quantity limit.' },
  'CTS.0410': { status: 400, message: 'The notification_type must be smn.' },
  'CTS.0411': { status: 400, message: 'The notification_name invalid.' },

  // OpenCTS extensions (see the header comment).
  'CTS.9400': { status: 400, message: 'Invalid request parameter.' },
  'CTS.9401': { status: 401, message: 'Incorrect authentication information.' },
  'CTS.9404': { status: 404, message: 'The requested resource does not exist.' },
  'CTS.9405': { status: 405, message: 'The request method is not allowed for this resource.' },
  'CTS.9408': { status: 408, message: 'The request was not received in time.' },
  'CTS.9413': { status: 413, message: 'The request body is too large.' },
  'CTS.9415': { status: 415, message: 'The request content type is not supported.' },
  'CTS.9429': { status: 429, message: 'Too many requests. Retry later.' },
  'CTS.9431': { status: 431, message: 'The request headers are too large.' },
  'CTS.9500': { status: 500, message: 'Internal error.' },
  'CTS.9503': { status: 503, message: 'Service unavailable. Retry later.' },
} as const satisfies Record<string, CatalogEntry>;

export type CtsErrorCode = keyof typeof ERROR_CATALOG;

/** The one error type that crosses layers; `detail` adds context without replacing the catalog text. */
export class CtsError extends Error {
  readonly code: CtsErrorCode;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: CtsErrorCode, detail?: string) {
    const entry: CatalogEntry = ERROR_CATALOG[code];
    super(detail ? `${entry.message} ${detail}` : entry.message);
    this.name = 'CtsError';
    this.code = code;
    this.status = entry.status;
    this.detail = detail;
  }

  toWire(): { error_code: string; error_msg: string } {
    return { error_code: this.code, error_msg: this.message };
  }
}

export function isCtsError(value: unknown): value is CtsError {
  return value instanceof CtsError;
}
