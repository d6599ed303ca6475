// The demo's "Stored models" list: what this browser keeps of each model (cachedModels()), with
// its size and whether it is complete, and a button that deletes it (deleteCachedModel()).

import type { CachedModel } from '../runtime/api.ts';

export interface StoredModelsApi {
  cachedModels(): Promise<CachedModel[]>;
  deleteCachedModel(manifestUrl: string): Promise<number>;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Renders the list into `list`; every delete re-renders it. Errors show in the list itself. */
export async function renderStoredModels(list: HTMLElement, api: StoredModelsApi): Promise<void> {
  let models: CachedModel[];
  try {
    models = await api.cachedModels();
  } catch (e) {
    list.replaceChildren(Object.assign(document.createElement('li'), { textContent: `Could not read storage: ${String(e)}` }));
    return;
  }
  if (models.length === 0) {
    list.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'Nothing stored.' }));
    return;
  }
  list.replaceChildren(...models.map((m) => {
    const li = document.createElement('li');
    const name = new URL(m.model).pathname.replace(/\/manifest\.json$/, '').split('/').pop() || m.model;
    const size = m.complete ? mib(m.bytes) : `${mib(m.storedBytes)} of ${mib(m.bytes)} (unfinished download)`;
    const label = Object.assign(document.createElement('span'), { textContent: `${name} — ${m.files} files, ${size}`, title: m.model });
    const del = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Delete', className: 'ghost' });
    del.setAttribute('aria-label', `Delete the stored copy of ${name}`);
    del.addEventListener('click', async () => {
      del.disabled = true;
      await api.deleteCachedModel(m.model).catch(() => {});
      await renderStoredModels(list, api);
    });
    li.append(label, ' ', del);
    return li;
  }));
}
