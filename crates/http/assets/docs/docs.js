// Renders /openapi.json as a browsable list of operations by tag. Written by hand and served by torg
// itself, so the page works offline and fetches nothing from the internet.
(function () {
  'use strict';
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  };
  const members = (s) => Object.keys((s && s.properties) || {});
  // An envelope with the operation's members is `allOf: [envelope, {properties}]`.
  const schemaName = (s) => s && s.allOf
    ? s.allOf.map((p) => (p.$ref ? schemaName(p) : '{' + members(p).join(', ') + '}')).join(' + ')
    : (s && s.$ref ? s.$ref.split('/').pop() : (s && s.type) || '');

  function operationNode(path, method, op) {
    const params = (op.parameters || []).map((p) =>
      el('tr', {}, el('td', {}, el('code', {}, p.name)), el('td', {}, p.in), el('td', {}, p.required ? 'required' : ''),
        el('td', {}, p.description || '')));
    const answers = Object.entries(op.responses || {}).map(([status, r]) => {
      const json = r.content && r.content['application/json'];
      return el('tr', {}, el('td', {}, status), el('td', {}, r.description || ''), el('td', {}, json ? schemaName(json.schema) : ''));
    });
    const security = (op.security || []).map((s) => Object.keys(s).join(', ')).join(' or ');
    const content = (op.requestBody && op.requestBody.content) || {};
    const first = Object.values(content)[0];
    const body = op.requestBody
      ? Object.keys(content).join(', ') + (first ? ' — ' + members(first.schema).join(', ') : '') : '';
    return el('details', { class: 'operation', 'data-operation': op.operationId || '',
      'data-search': [path, method, op.summary, op.operationId].join(' ').toLowerCase() },
      el('summary', {}, el('span', { class: 'method ' + method }, method.toUpperCase()), el('code', { class: 'path' }, path),
        el('span', { class: 'summary' }, op.summary || '')),
      el('p', {}, op.description || ''),
      security ? el('p', {}, 'Key: ', el('code', {}, security)) : '',
      body ? el('p', {}, 'Body: ', el('code', {}, body)) : '',
      params.length ? el('table', { class: 'parameters' }, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, ''),
        el('th', {}, 'meaning')), ...params) : '',
      el('table', { class: 'answers' }, el('tr', {}, el('th', {}, 'status'), el('th', {}, 'meaning'), el('th', {}, 'schema')), ...answers));
  }

  function render(doc) {
    document.getElementById('info').textContent =
      (doc.info.title || 'torg') + ' ' + (doc.info.version || '') + ' — ' + (doc.info.description || '');
    const byTag = new Map();
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const [method, op] of Object.entries(item)) {
        if (typeof op !== 'object' || !op.responses) continue;
        const tag = (op.tags && op.tags[0]) || 'other';
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push(operationNode(path, method, op));
      }
    }
    const main = document.getElementById('operations');
    const nav = document.getElementById('tags');
    for (const [tag, ops] of [...byTag.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      nav.append(el('a', { href: '#tag-' + tag }, tag + ' (' + ops.length + ')'));
      main.append(el('section', { class: 'tag', id: 'tag-' + tag }, el('h2', {}, tag), ...ops));
    }
    document.body.setAttribute('data-ready', String(main.querySelectorAll('details.operation').length));
  }

  document.getElementById('search').addEventListener('input', (e) => {
    const q = e.target.value.trim().toLowerCase();
    for (const node of document.querySelectorAll('details.operation')) {
      node.classList.toggle('hidden', q !== '' && !node.getAttribute('data-search').includes(q));
    }
  });

  fetch('/openapi.json').then((r) => r.json()).then(render).catch((e) => {
    document.getElementById('info').textContent = 'Could not load /openapi.json: ' + e;
  });
})();
