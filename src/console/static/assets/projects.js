import { api } from './api.js';

/** The caller's projects (GET /api/projects), shared by the tree and every view. */
class ProjectStore {
  #projects = [];
  #error = null;
  #listeners = [];

  async refresh() {
    try {
      const body = await api('/api/projects');
      this.#projects = body.projects ?? [];
      this.#error = null;
    } catch (error) {
      if (error.status === 401) return;
      this.#error = error;
    }
    for (const listener of this.#listeners) listener();
  }

  clear() {
    this.#projects = [];
    this.#error = null;
  }

  onChange(listener) {
    this.#listeners.push(listener);
  }

  get(id) {
    return this.#projects.find((p) => p.id === id);
  }

  /** Sandboxes hang under their parent; a sandbox whose parent the user cannot see is shown as a root. */
  tree() {
    const ids = new Set(this.#projects.map((p) => p.id));
    const childrenOf = (id) => this.#projects.filter((p) => p.parent_id === id);
    const roots = this.#projects.filter((p) => !p.parent_id || !ids.has(p.parent_id));
    return { roots, childrenOf, error: this.#error };
  }
}

export const projectStore = new ProjectStore();
