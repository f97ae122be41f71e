// The search page: Pagefind's index, searched in the browser.
//
// Pagefind (pagefind.js in the bundle) picks the index of the page's
// language from <html lang>; this script only asks it and shows the
// results, with the site's own markup and strings (data-msg-* attributes of
// #search, translated by the theme). The query and the filters live in the
// address (?q=…&category=…), so a search can be shared and the form works as
// a plain GET form before the script runs.

const PAGE_SIZE = 10;

const root = document.getElementById("search");
const form = root.querySelector(".search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const more = document.getElementById("search-more");
const empty = document.getElementById("search-empty");
const fallback = document.getElementById("search-fallback");
const filterBox = root.querySelector(".search-filters");
const selects = [...root.querySelectorAll("select[data-filter]")];

function message(name, values = {}) {
  const text = root.dataset["msg" + name] || "";
  return text.replace(/\{(\w+)\}/g, (_m, key) => String(values[key] ?? ""));
}

// An excerpt is text with <mark> around the words found: rebuilt from text
// nodes and marks only, so nothing else from the index becomes markup.
function excerptNodes(html) {
  const doc = new DOMParser().parseFromString(`<p>${html}</p>`, "text/html");
  const out = document.createDocumentFragment();
  for (const node of doc.body.firstChild.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      out.append(mark);
    } else {
      out.append(document.createTextNode(node.textContent));
    }
  }
  return out;
}

function resultItem(data) {
  const item = document.createElement("li");
  item.className = "search-result";
  const title = document.createElement("h2");
  title.className = "search-result-title";
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = data.meta.title || data.url;
  title.append(link);
  item.append(title);
  const meta = [data.meta.date, data.meta.author && message("By", { author: data.meta.author })]
    .filter(Boolean)
    .join(" · ");
  if (meta) {
    const line = document.createElement("p");
    line.className = "search-result-meta";
    line.textContent = meta;
    item.append(line);
  }
  const excerpt = document.createElement("p");
  excerpt.className = "search-result-excerpt";
  excerpt.append(excerptNodes(data.excerpt || ""));
  item.append(excerpt);
  return item;
}

function chosenFilters() {
  const filters = {};
  for (const select of selects) {
    if (select.value) filters[select.dataset.filter] = select.value;
  }
  return filters;
}

function fillFilters(available, params) {
  let any = false;
  for (const select of selects) {
    const name = select.dataset.filter;
    const counts = available[name] || {};
    let values = Object.keys(counts);
    values.sort(name === "year" ? (a, b) => b.localeCompare(a) : (a, b) => a.localeCompare(b));
    for (const value of values) {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = `${value} (${counts[value]})`;
      select.append(option);
    }
    const wanted = params.get(name);
    if (wanted && values.includes(wanted)) select.value = wanted;
    select.closest(".form-field").hidden = values.length === 0;
    any ||= values.length > 0;
  }
  if (!any) filterBox.hidden = true;
}

// The filters' data (every value's pages) is a download of its own: made
// when the reader opens "Narrow down", or at once when the address names
// a filter, never for a plain query.
let filtersLoaded = null;
function loadFilters(params) {
  filtersLoaded ||= pagefind.filters().then((found) => fillFilters(found, params));
  return filtersLoaded;
}

function remember(query, filters) {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  for (const [name, value] of Object.entries(filters)) params.set(name, value);
  const search = params.toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

let pagefind = null;
let results = [];
let shown = 0;
let generation = 0;

async function showMore() {
  const batch = results.slice(shown, shown + PAGE_SIZE);
  const mine = generation;
  const data = await Promise.all(batch.map((r) => r.data()));
  if (mine !== generation) return;
  for (const d of data) list.append(resultItem(d));
  shown += batch.length;
  more.parentElement.hidden = shown >= results.length;
}

// The index or its WebAssembly could not be loaded (offline, a server's
// Content-Security-Policy without 'wasm-unsafe-eval', a bundle half
// deployed): the reader is told, and given the archives instead.
function failed(error) {
  console.error("search:", error);
  status.textContent = message("Failed");
  fallback.hidden = false;
  root.dataset.state = "error";
}

async function run() {
  const mine = generation + 1; // search() takes this number first
  try {
    await search();
  } catch (error) {
    if (mine === generation) failed(error); // not over a newer search
  }
}

async function search() {
  const query = input.value.trim();
  const filters = chosenFilters();
  const mine = ++generation;
  remember(query, filters);
  list.replaceChildren();
  empty.hidden = true;
  more.parentElement.hidden = true;
  if (!query && Object.keys(filters).length === 0) {
    status.textContent = "";
    root.dataset.state = "done";
    return;
  }
  status.textContent = message("Loading");
  root.dataset.state = "searching";
  // No words but a filter: every post the filter keeps (Pagefind: null).
  const found = await pagefind.search(query || null, { filters, sort: query ? undefined : { date: "desc" } });
  if (mine !== generation || found === null) return; // a newer search is on
  results = found.results;
  shown = 0;
  const count = results.length;
  if (count > 0) await showMore();
  if (mine !== generation) return;
  // Said once the results are there, so a screen reader announces a list
  // that can be read at once.
  if (count === 0) {
    status.textContent = message("None", { query: query || "…" });
    empty.hidden = false;
  } else if (query) {
    status.textContent = message(count === 1 ? "One" : "Many", { count, query });
  } else {
    status.textContent = message(count === 1 ? "FilteredOne" : "FilteredMany", { count });
  }
  root.dataset.state = "done";
}

let timer = null;
function soon() {
  clearTimeout(timer);
  timer = setTimeout(run, 250);
}

async function start() {
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  try {
    pagefind = await import(new URL("pagefind.js", root.dataset.bundle).href);
    // Result URLs are paths from the site's root, which may be below "/"
    // (SITEURL https://example.com/blog): the bundle's parent.
    const baseUrl = new URL("..", root.dataset.bundle).pathname;
    // noWorker: one search takes milliseconds in WebAssembly; Pagefind's
    // web worker would cost every reader 41 kB more (docs/PERFORMANCE.md).
    await pagefind.options({ baseUrl, excerptLength: 24, noWorker: true });
    await pagefind.init();
    filterBox.hidden = false;
    if (selects.some((select) => params.get(select.dataset.filter))) {
      filterBox.open = true;
      await loadFilters(params);
    }
  } catch (error) {
    failed(error);
    return;
  }
  fallback.hidden = true;
  root.dataset.ready = "true"; // for the tests: the index is loaded
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run();
  });
  input.addEventListener("input", soon);
  for (const select of selects) select.addEventListener("change", run);
  filterBox.addEventListener("toggle", () => {
    if (filterBox.open) loadFilters(new URLSearchParams(location.search));
  });
  more.addEventListener("click", () => showMore());
  await run();
}

start();
