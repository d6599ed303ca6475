import { writeFile } from 'node:fs/promises';
import { generate } from 'erta-diffusion/node';

const result = await generate({ label: 7, seed: 3, steps: 8, policy: 'ertacache', budget: 5 });
await writeFile('seven.png', result.png());
console.log(JSON.stringify(result.report));
