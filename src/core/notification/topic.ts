/**
 * Topics. SMN and FunctionGraph do not exist in a self-hosted OpenCTS, so a topic URN of either
 * kind (spec §1.7) is registered here and mapped to a webhook URL with its own signing secret.
 */
import { CtsError } from '../error-catalog.js';
import type { NotificationType } from './notification.js';

/** A registered topic without its secret (what may be listed). */
export interface Topic {
  readonly urn: string;
  readonly project_id: string;
  readonly url: string;
  readonly created_at: number;
}

/** SMN topic names: 1–255 of letters, digits, `-`, `_`, starting with a letter or digit. */
const SMN_URN = /^urn:smn:([a-z0-9][a-z0-9-]{0,62}):([A-Za-z0-9_-]{1,64}):([A-Za-z0-9][A-Za-z0-9_-]{0,254})$/;
/** FunctionGraph function names: 1–60 of letters, digits, `-`, `_`, starting with a letter. */
const FSS_URN =
  /^urn:fss:([a-z0-9][a-z0-9-]{0,62}):([A-Za-z0-9_-]{1,64}):function:default:([A-Za-z][A-Za-z0-9_-]{0,59})$/;

export interface ParsedUrn {
  readonly type: NotificationType;
  readonly region: string;
  readonly projectId: string;
  readonly name: string;
}

export function parseTopicUrn(urn: string): ParsedUrn | undefined {
  const smn = SMN_URN.exec(urn);
  if (smn) return { type: 'smn', region: smn[1]!, projectId: smn[2]!, name: smn[3]! };
  const fss = FSS_URN.exec(urn);
  if (fss) return { type: 'fun', region: fss[1]!, projectId: fss[2]!, name: fss[3]! };
  return undefined;
}

const MAX_URL_LENGTH = 2048;

/** The webhook URL of a topic: absolute http(s), no credentials in it (they would be logged). */
export function checkWebhookUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CtsError('CTS.9400', '(url must be an absolute http or https URL)');
  }
  if (url.length > MAX_URL_LENGTH || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new CtsError('CTS.9400', '(url must be an absolute http or https URL)');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new CtsError('CTS.9400', '(url must not contain credentials: the topic secret signs each message)');
  }
  return parsed.toString();
}

/** A topic the caller's project may register: the URN is well-formed and names that project. */
export function checkTopicUrn(urn: string, projectId: string): ParsedUrn {
  const parsed = parseTopicUrn(urn);
  if (!parsed) {
    throw new CtsError(
      'CTS.9400',
      '(urn must be urn:smn:{region}:{project_id}:{name} or urn:fss:{region}:{project_id}:function:default:{name})',
    );
  }
  // The message names the caller's own project only: never echo another project's id.
  if (parsed.projectId !== projectId) throw new CtsError('CTS.9400', `(the urn must name project ${projectId})`);
  return parsed;
}
