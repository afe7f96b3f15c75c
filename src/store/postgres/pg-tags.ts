/**
 * Tracker tags and project configuration on PostgreSQL (migration 3; the same rules as SQLite's):
 * a tag change replaces one tracker's whole tag set, a configuration change replaces the
 * project's configuration. Both are planned inside PostgresStore's transaction on the rows as it
 * sees them; the caller inserts the change's traces in the same transaction.
 */
import type { CtsConfiguration } from '../../core/configuration.js';
import type { Tracker } from '../../core/tracker/tracker.js';
import type { ConfigurationChange, ConfigurationPlanner, TagChange, TagPlanner, TrackerTag } from '../store.js';
import type { PgTransaction } from './pg-group-commit.js';

type Reader = Pick<PgTransaction, 'read'>;

const SQL = {
  listTags: `SELECT tracker_id, tag_key AS key, tag_value AS value FROM tracker_tags WHERE project_id = $1
    ORDER BY tracker_id, tag_key`,
  trackerTags: `SELECT tag_key AS key, tag_value AS value FROM tracker_tags WHERE tracker_id = $1 AND project_id = $2
    ORDER BY tag_key`,
  deleteTrackerTags: 'DELETE FROM tracker_tags WHERE tracker_id = $1 AND project_id = $2',
  insertTags: `INSERT INTO tracker_tags (tracker_id, project_id, tag_key, tag_value)
    SELECT $1::text, $2::text, * FROM unnest($3::text[], $4::text[])`,
  getConfiguration: 'SELECT body FROM project_configuration WHERE project_id = $1',
  putConfiguration: `INSERT INTO project_configuration (project_id, body) VALUES ($1, $2)
    ON CONFLICT (project_id) DO UPDATE SET body = excluded.body`,
} as const;

export async function listTagsPg(db: Reader, projectId: string): Promise<TrackerTag[]> {
  return (await db.read<TrackerTag>({ text: SQL.listTags, values: [projectId] })).rows;
}

/** Plans and writes one tracker's new tag set; returns the change (its traces are the caller's). */
export async function changeTagsPg<T>(
  tx: PgTransaction,
  projectId: string,
  trackerId: string,
  trackers: readonly Tracker[],
  planner: TagPlanner<T>,
): Promise<TagChange<T>> {
  const current = (
    await tx.read<{ key: string; value: string }>({
      text: SQL.trackerTags,
      values: [trackerId, projectId],
    })
  ).rows;
  const change = planner(trackers, current);
  if (!trackers.some((t) => t.id === trackerId)) throw new Error('tags of a tracker that is not in the project');
  await tx.write({ text: SQL.deleteTrackerTags, values: [trackerId, projectId] });
  if (change.tags.length > 0) {
    await tx.write({
      text: SQL.insertTags,
      values: [trackerId, projectId, change.tags.map((t) => t.key), change.tags.map((t) => t.value)],
    });
  }
  return change;
}

export async function getConfigurationPg(db: Reader, projectId: string): Promise<CtsConfiguration | undefined> {
  const row = (await db.read<{ body: string }>({ text: SQL.getConfiguration, values: [projectId] })).rows[0];
  return row ? (JSON.parse(row.body) as CtsConfiguration) : undefined;
}

/** Plans and writes the project's new configuration; returns the change (its traces are the caller's). */
export async function changeConfigurationPg<T>(
  tx: PgTransaction,
  projectId: string,
  trackers: readonly Tracker[],
  planner: ConfigurationPlanner<T>,
): Promise<ConfigurationChange<T>> {
  const change = planner(trackers, await getConfigurationPg(tx, projectId));
  await tx.write({ text: SQL.putConfiguration, values: [projectId, JSON.stringify(change.configuration)] });
  return change;
}
