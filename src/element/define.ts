// The element's entry module: the one file of the project with a side effect. Importing it
// registers <erta-diffusion> (once; a second copy of the bundle on a page is harmless).
//   <script type="module" src="./erta-diffusion.js"></script>
//   <erta-diffusion label="7" seed="3" controls></erta-diffusion>

/**
 * The `<erta-diffusion>` web component. Importing this module registers the tag (its one side
 * effect); the class is {@link ErtaDiffusionElement}.
 *
 * @module erta-diffusion/element
 */

import { ErtaDiffusionElement } from './element.ts';

export { ErtaDiffusionElement } from './element.ts';
export type {
  ErtaCalibratedDetail, ErtaCalibrationDetail, ErtaDoneDetail, ErtaErrorDetail, ErtaEventMap, ErtaEventName, ErtaFrameDetail, ErtaProgressDetail, ErtaStepDetail,
} from './events.ts';
export type { ElementOptions, ProviderChoice } from './options.ts';
export type { ElementCalibrateOptions } from './request.ts';
export type { CalibrateResult, CalibrationEvent, GenerateResult, ModelInfo, RunStats, Frame } from '../runtime/api.ts';

export const TAG_NAME = 'erta-diffusion';

if (!customElements.get(TAG_NAME)) customElements.define(TAG_NAME, ErtaDiffusionElement);

declare global {
  interface HTMLElementTagNameMap {
    'erta-diffusion': ErtaDiffusionElement;
  }
}
