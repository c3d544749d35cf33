// Drives a running JupyterLab in Debian's headless Chromium (playwright-core, no browser download).
//
//   node tests/browser/lab.mjs CONFIG.json
//
// tests/test_browser.py starts the server, writes CONFIG.json and reads RESULTS (config.results):
//   {"base": "http://127.0.0.1:PORT", "token": "...", "chromium": "/usr/bin/chromium",
//    "out": "build/browser", "results": "build/browser/lab.json", "deadline_s": 150,
//    "explorer": "solutions/02_time_and_frequency.ipynb", "scatter": "solutions/06_embeddings.ipynb",
//    "student": "notebooks/03_dataset.ipynb", "html": null}
// With "html": "PATH.html" it only opens that exported page (file://, offline) and checks its figure.
//
// Every request to another host than 127.0.0.1 is aborted (and listed): the pages must work offline.
// This script measures and screenshots; the assertions live in tests/test_browser.py, which also
// reads the notebooks JupyterLab saved. Exit status: 0 when it ran to the end, 1 on any failure.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const started = Date.now();
const seconds = () => Math.round((Date.now() - started) / 100) / 10;
const results = { blocked: [], page_errors: [], steps: [] };
const step = (name, extra = {}) => {
  results.steps.push({ name, at_s: seconds(), ...extra });
  console.log(`[browser ${seconds()} s] ${name}`);
};
const save = () => fs.writeFileSync(config.results, JSON.stringify(results, null, 1));

// The whole run is bounded: past the deadline, results so far are written and the process exits.
const watchdog = setTimeout(() => {
  results.error = `deadline of ${config.deadline_s} s passed`;
  save();
  process.exit(1);
}, config.deadline_s * 1000);

// The flags of the developers' guide; a fresh profile (--user-data-dir) made here and removed after.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'audio-course-chromium-'));

async function launch() {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: config.chromium, headless: true, args: FLAGS,
    viewport: { width: 1280, height: 900 }, timeout: 30000,
  });
  context.setDefaultTimeout(30000);
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'file:' || url.protocol === 'data:' || url.hostname === '127.0.0.1') {
      return route.continue();
    }
    results.blocked.push(url.href);
    return route.abort();
  });
  return context;
}

function watch(page, notebook) {
  page.on('pageerror', (error) => results.page_errors.push({ notebook, message: error.message }));
}

const lab = (where) => `${config.base}${where}${where.includes('?') ? '&' : '?'}token=${config.token}`;

// Open a notebook in a workspace of its own, run all its cells, wait until the kernel is done.
async function runAll(context, notebook) {
  const page = await context.newPage();
  watch(page, notebook);
  const workspace = path.basename(notebook, '.ipynb').replace(/[^a-z0-9]/gi, '-');
  await page.goto(lab(`/lab/workspaces/${workspace}/tree/${notebook}?reset`), { timeout: 60000 });
  await page.waitForSelector('.jp-NotebookPanel .jp-Notebook .jp-Cell', { timeout: 60000 });
  await page.waitForSelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', { timeout: 60000 });
  await page.waitForTimeout(1000); // the kernel's first idle comes before its comms are ready
  step(`${notebook}: open, kernel idle`);
  // First something runs ([*] or a number), then nothing is left running and the kernel is idle.
  // A Run All sent while the kernel's session is still connecting is dropped without a word
  // (seen here about one time in two on a busy machine): send it again, at most 3 times.
  for (let attempt = 1; ; attempt += 1) {
    await page.click('.lm-MenuBar-itemLabel:text-is("Run")');
    await page.click('.lm-Menu-itemLabel:text-is("Run All Cells")');
    try {
      await page.waitForFunction(
        () => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
          .some((e) => /\[(\*|\d+)\]/.test(e.textContent)),
        null, { timeout: 10000, polling: 250 },
      );
      break;
    } catch (error) {
      if (attempt === 3) throw error;
      step(`${notebook}: nothing ran 10 s after Run All Cells (attempt ${attempt}), again`);
    }
  }
  await page.waitForFunction(
    () => {
      const texts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map((e) => e.textContent);
      const idle = document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]');
      return idle && !texts.some((t) => t.includes('*'));
    },
    null, { timeout: config.notebook_timeout_s * 1000, polling: 500 },
  );
  step(`${notebook}: all cells run`);
  return page;
}

// Save the notebook (its outputs are read by the Python side) and wait until it is written.
async function saveNotebook(page, notebook) {
  await page.locator('.jp-NotebookPanel-toolbar [data-command="docmanager:save"]').first().click();
  await page.waitForFunction(() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty'),
    null, { timeout: 20000 });
  step(`${notebook}: saved`);
}

async function shutdownKernels(page) {
  const headers = { Authorization: `token ${config.token}` };
  const kernels = await (await page.request.get(`${config.base}/api/kernels`, { headers })).json();
  for (const kernel of kernels) {
    await page.request.delete(`${config.base}/api/kernels/${kernel.id}`, { headers });
  }
}

async function checkExplorer(context) {
  const notebook = config.explorer;
  const page = await runAll(context, notebook);
  const interact = page.locator('.widget-interact');
  const found = { widgets: await interact.count() };
  results.explorer = found;
  if (found.widgets !== 1) return page;
  const widget = interact.first();
  await widget.scrollIntoViewIfNeeded();
  found.dropdowns = await widget.locator('.widget-dropdown label').allTextContents();
  found.values = await widget.locator('select').evaluateAll((s) => s.map((e) => e.value));
  const image = widget.locator('.widget-output img');
  await image.first().waitFor({ timeout: 30000 });
  const before = await image.first().getAttribute('src');
  await page.waitForTimeout(500);
  await widget.screenshot({ path: path.join(config.out, '02_explorer.png') });
  const changed = Date.now();
  await widget.locator('select').first().selectOption('2048');
  await page.waitForFunction(
    ([src]) => {
      const images = document.querySelectorAll('.widget-interact .widget-output img');
      return images.length === 1 && images[0].getAttribute('src') !== src;
    },
    [before], { timeout: 30000, polling: 100 },
  ).then(() => { found.redraw_s = (Date.now() - changed) / 1000; }, () => { found.redraw_s = null; });
  found.images_after = await image.count();
  found.changed = found.images_after > 0 && (await image.first().getAttribute('src')) !== before;
  found.image_sizes = await image.evaluateAll((s) => s.map((e) => [e.naturalWidth, e.naturalHeight]));
  await page.waitForTimeout(300);
  await widget.screenshot({ path: path.join(config.out, '02_explorer_n_fft_2048.png') });
  step(`${notebook}: explorer redrawn in ${found.redraw_s} s`);
  return page;
}

// What the browser drew for a plotly 3-D scatter: traces, a live WebGL canvas, its size and place.
async function describeScatter(page, prefix) {
  const plot = page.locator('.js-plotly-plot');
  const found = { plots: await plot.count() };
  if (found.plots < 1) return found;
  await plot.first().scrollIntoViewIfNeeded();
  await plot.first().locator('.gl-container canvas').first().waitFor({ timeout: 30000 });
  await page.waitForTimeout(1500); // the scene draws on the next animation frames
  Object.assign(found, await plot.first().evaluate((gd) => {
    const canvas = gd.querySelector('.gl-container canvas');
    const gl = canvas.getContext('webgl2') || canvas.getContext('webgl');
    const box = gd.getBoundingClientRect();
    const area = gd.closest('.jp-OutputArea-output') || gd.parentElement;
    const c = canvas.getBoundingClientRect();
    return {
      traces: gd.data.length,
      trace_types: [...new Set(gd.data.map((t) => t.type))],
      names: gd.data.map((t) => t.name),
      webgl: !!gl && !gl.isContextLost(),
      drawing_buffer: gl ? [gl.drawingBufferWidth, gl.drawingBufferHeight] : null,
      canvas_css: [c.width, c.height],
      figure_height: gd._fullLayout.height,
      plot_box: [box.top, box.bottom],
      output_box: [area.getBoundingClientRect().top, area.getBoundingClientRect().bottom],
      clipped_by_output: area.scrollHeight > area.clientHeight + 1,
      scene_domain: gd._fullLayout.scene.domain,
    };
  }));
  await plot.first().screenshot({ path: path.join(config.out, `${prefix}.png`) });
  await plot.first().locator('.gl-container canvas').first()
    .screenshot({ path: path.join(config.out, `${prefix}_canvas.png`) });
  return found;
}

async function checkScatter(context) {
  const notebook = config.scatter;
  const page = await runAll(context, notebook);
  results.scatter = await describeScatter(page, '06_scatter');
  step(`${notebook}: ${results.scatter.traces} traces, WebGL ${results.scatter.webgl}`);
  await saveNotebook(page, notebook);
  return page;
}

async function checkStudent(context) {
  const notebook = config.student;
  const page = await runAll(context, notebook);
  results.student = await page.evaluate(() => {
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
    const errors = [];
    cells.forEach((cell, index) => {
      for (const out of cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')) {
        if (/Error|Traceback/.test(out.textContent)) {
          errors.push({ index, text: out.textContent.slice(-400), fixme: cell.querySelector('.jp-InputArea').textContent.includes('# FIXME') });
        }
      }
    });
    const fixmes = cells.map((c, i) => [i, c.querySelector('.jp-InputArea')?.textContent.includes('# FIXME')])
      .filter(([, has]) => has).map(([i]) => i);
    return { errors, first_fixme: fixmes[0] ?? null, cells: cells.length };
  });
  const first = results.student.errors[0];
  if (first) {
    const cell = page.locator('.jp-Notebook .jp-Cell').nth(first.index);
    await cell.scrollIntoViewIfNeeded();
    await cell.screenshot({ path: path.join(config.out, '03_student_first_fixme.png') });
  }
  step(`${notebook}: ${results.student.errors.length} error output(s)`);
  await saveNotebook(page, notebook);
  return page;
}

async function checkExport(context) {
  const page = await context.newPage();
  watch(page, config.html);
  await page.goto(`file://${path.resolve(config.html)}`, { timeout: 60000 });
  results.export = await describeScatter(page, '06_export');
  step(`${config.html}: ${results.export.traces} traces, WebGL ${results.export.webgl}`);
}

let context;
let failed = false;
try {
  fs.mkdirSync(config.out, { recursive: true });
  context = await launch();
  step(`chromium ${context.browser()?.version() ?? ''} launched`);
  if (config.html) {
    await checkExport(context);
  } else {
    for (const check of [checkExplorer, checkScatter, checkStudent]) {
      const page = await check(context);
      await shutdownKernels(page); // one kernel at a time on a 2-core machine
      await page.close();
    }
  }
} catch (error) {
  failed = true;
  results.error = String(error.stack || error);
  console.error(results.error);
  for (const page of context ? context.pages() : []) {
    await page.screenshot({ path: path.join(config.out, `failure-${context.pages().indexOf(page)}.png`) })
      .catch(() => {});
  }
} finally {
  results.seconds = seconds();
  save();
  if (context) await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
