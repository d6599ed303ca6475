// Child process of the scaling study (scaling.ts measureVariant): times one variant's calibrated
// ERTACache plan against `none` on the variant loaded here alone, and sends the timing back.
import { serveApart } from '../node/apart.ts';
import { timeVariant } from './scaling.ts';

serveApart('scaling-child.ts', timeVariant);
