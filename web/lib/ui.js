// The page's one view library: Preact with hooks, written with htm's tagged templates (no JSX, so no build step).
// Served by darkroom from .deps/web-vendor (pinned in scripts/setup.sh).
import { h, render, Fragment } from '/vendor/preact/preact.module.js';
import { useState, useEffect, useRef, useMemo, useCallback, useLayoutEffect } from '/vendor/preact/hooks.module.js';
import htm from '/vendor/htm/htm.module.js';

export const html = htm.bind(h);
export { h, render, Fragment, useState, useEffect, useRef, useMemo, useCallback, useLayoutEffect };
