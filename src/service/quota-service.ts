/** Quotas of a project with their live use (spec §1.8 GET /v3/{project_id}/quotas). */
import { NOTIFICATION_QUOTA } from '../core/notification/notification.js';
import { DATA_TRACKER_QUOTA, SYSTEM_TRACKER_QUOTA } from '../core/tracker/tracker.js';
import type { Store } from '../store/store.js';
import type { Caller } from './tracker-service.js';

export interface QuotaResource {
  readonly type: 'system_tracker' | 'data_tracker' | 'smn_notification';
  readonly used: number;
  readonly quota: number;
}

export class QuotaService {
  constructor(private readonly store: Store) {}

  async list(caller: Caller): Promise<QuotaResource[]> {
    const [trackers, notifications] = await Promise.all([
      this.store.listTrackers(caller.projectId),
      this.store.listNotifications(caller.projectId),
    ]);
    const count = (type: string) => trackers.filter((t) => t.tracker_type === type).length;
    return [
      { type: 'system_tracker', used: count('system'), quota: SYSTEM_TRACKER_QUOTA },
      { type: 'data_tracker', used: count('data'), quota: DATA_TRACKER_QUOTA },
      { type: 'smn_notification', used: notifications.length, quota: NOTIFICATION_QUOTA },
    ];
  }
}
