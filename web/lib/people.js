// The people list (GET /api/people), read once and again after every decision, shared by the views that show names.
import { useEffect, useState } from './ui.js';
import { api } from './api.js';

let data = null;
let pending = null;
const subscribers = new Set();

export function refreshPeople() {
  pending = api.get('/api/people').then(
    (d) => {
      data = d;
      pending = null;
      for (const fn of subscribers) fn(d);
      return d;
    },
    (e) => {
      pending = null;
      throw e;
    }
  );
  return pending;
}

// { people, unassigned } or null while loading; error: the last failure's sentence.
export function usePeople() {
  const [state, setState] = useState(data);
  const [error, setError] = useState(null);
  useEffect(() => {
    const fn = (d) => setState(d);
    subscribers.add(fn);
    (pending || refreshPeople()).catch((e) => setError(e.message));
    return () => subscribers.delete(fn);
  }, []);
  return [state, error];
}
