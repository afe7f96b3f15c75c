/** The Store contract on SQLite (the embedded default). */
import { storeContract } from './store.contract.js';

storeContract('sqlite');
