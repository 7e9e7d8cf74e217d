// Half-close on the default data path: both sockets read through `onread` (src/reader.ts).
import { halfCloseCases } from './half-close-cases.ts';

halfCloseCases('onread fast path');
