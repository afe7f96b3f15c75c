/** The Store contracts on SQLite (the embedded default). */
import { storeContract } from './store.contract.js';
import { tagsAndNotificationsContract } from './tags-notifications.contract.js';

storeContract('sqlite');
tagsAndNotificationsContract('sqlite');
