// dashboard.mjs - drives the dashboard in Debian's headless Chromium through
// playwright-core (tests/e2e/dashboard.sh starts slipway serve and reads the
// store). Prints "ok - WHAT" / "not ok - WHAT" lines for the shell test and
// saves a PNG of each page in $OUT. Every wait is on a condition in the page
// (no fixed sleeps), with generous time limits for a loaded machine.
import { chromium } from 'playwright-core';

const { URL, OUT, CHROMIUM, BOB, CAROL, DAVE, WEB_ID, SHOP_ID } = process.env;
const WAIT = 90_000;
let failed = 0;

function check(cond, what, detail) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}`);
  if (!cond) {
    failed++;
    if (detail !== undefined) console.log(`# ${String(detail).split('\n').join('\n# ')}`);
  }
}

// run a step; a timeout or an error fails it, with the message, and goes on
async function step(what, fn) {
  try {
    const r = await fn();
    check(r !== false, what);
  } catch (e) {
    check(false, what, e.message);
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // root in a container: Chromium's sandbox needs user namespaces it may not have
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});

// One signed-in tab of its own (its own sessionStorage); console errors
// (a script the CSP refused reports one) and page errors are collected.
async function session(tok) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
  page.on('pageerror', (e) => page.problems.push(e.message));
  page.on('dialog', (d) => d.accept());
  await page.goto(URL + '/');
  if (tok) {
    await page.fill('#token', tok);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#user');
  }
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
}

const text = async (page, sel) => (await page.textContent(sel)).trim();

try {
  // ---- a wrong token: the API's own message
  {
    const { context, page } = await session(null);
    await page.waitForSelector('#signin');
    check(page.url().endsWith('/ui/'), 'GET / lands on /ui/');
    const bad = 'swt_' + '0'.repeat(64);
    const want = (await (await fetch(URL + '/api/v1/whoami', { headers: { Authorization: 'Bearer ' + bad } })).json()).detail;
    await page.fill('#token', bad);
    await page.click('#signin button[type=submit]');
    await step('a wrong token: the sign-in shows the API\'s problem detail as it is', async () => {
      await page.waitForSelector('#error:not([hidden])');
      return (await text(page, '#error')) === want;
    });
    check(await page.evaluate(() => sessionStorage.getItem('slipway.token')) === null, 'a refused token is not kept');
    await shot(page, '01-signin-refused');
    // the refused whoami itself is the one error Chromium reports
    const others = page.problems.filter((m) => !/status of 401/.test(m));
    check(others.length === 0, 'sign-in page: no other console or CSP error', others.join('\n'));
    await context.close();
  }

  // ---- dave holds no role: no approve button, no abort button
  {
    const { context, page } = await session(DAVE);
    await step('dave: whoami shows no roles', async () => /no roles/.test(await text(page, '#roles')));
    await step('the deployments page lists web waiting at the gate', async () => {
      await page.waitForSelector(`#now tr[data-id="${WEB_ID}"][data-state=pending]`);
    });
    await page.click(`#now tr[data-id="${WEB_ID}"] a`);
    await page.waitForSelector('#gate-status[data-gate=waiting]');
    await page.waitForSelector('li.missing[data-role=team-lead] .no-role');
    await step('the checklist shows each item with its state, as slipway checklist does', async () => {
      await page.waitForSelector('#checklist tr[data-item=window-confirmed]');
      await page.waitForSelector('#checklist tr[data-item=ci-passing][data-state=missing]');
    });
    check(await page.locator('button.approve').count() === 0, 'dave sees no approve button');
    check(await page.locator('#btn-abort').count() === 0, 'nor an abort button (deployer)');
    await shot(page, '02-deployment-no-role');
    check(page.problems.length === 0, 'dave: no console or CSP error', page.problems.join('\n'));
    await context.close();
  }

  // ---- bob, team lead: approves web and watches it move
  {
    const { context, page } = await session(BOB);
    await page.waitForSelector(`#now tr[data-id="${SHOP_ID}"]`);
    await page.waitForSelector(`#now tr[data-id="${WEB_ID}"]`);
    await shot(page, '03-deployments');
    await page.goto(`${URL}/ui/#/deployments/${WEB_ID}`);
    await page.waitForSelector('#summary dd[data-field=state]');
    const before = [await text(page, '#summary dd[data-field=state]'), await text(page, '#summary dd[data-field=weight]')];
    check(before.join(' ') === 'pending 0%', 'web shown pending at 0% before the approval', before.join(' '));
    await page.waitForSelector('button.approve[data-role=team-lead]');
    await shot(page, '04-deployment-waiting');
    await page.fill('#comment', 'looks good from the dashboard');
    await page.click('button.approve[data-role=team-lead]');
    await step('after bob\'s approval the gate is shown open', async () => {
      await page.waitForSelector('#gate-status[data-gate=open]');
    });
    await step('web is shown moving: progressing at 10% (read by polling the API)', async () => {
      await page.waitForFunction(() => {
        const s = document.querySelector('#summary dd[data-field=state]'), w = document.querySelector('#summary dd[data-field=weight]');
        return s && w && s.textContent === 'progressing' && w.textContent === '10%';
      });
    });
    await step('the timeline shows the transition to progressing', async () => {
      await page.waitForSelector('#timeline td .state-progressing');
    });
    // the deployment's hold_until comes with a later poll than the state: wait for it
    await step('the hold left counts down from under an hour', async () => {
      await page.waitForFunction(() => {
        const e = document.querySelector('#summary dd[data-field=left]');
        return e && /^(\d+m \d+s|\d+s)$/.test(e.textContent);
      });
    });
    await shot(page, '05-deployment-approved');
    check(await page.locator('#btn-abort').count() === 0, 'bob (no deployer role) sees no abort button');
    check(page.problems.length === 0, 'bob: no console or CSP error', page.problems.join('\n'));
    await context.close();
  }

  // ---- carol, deployer: the chart fills, she aborts shop
  {
    const { context, page } = await session(CAROL);
    await page.goto(`${URL}/ui/#/deployments/${SHOP_ID}`);
    await step('shop\'s chart draws canary vs stable from the stored analysis', async () => {
      await page.waitForSelector('#chart-error canvas');
      await page.waitForSelector('#chart-p99 canvas');
    });
    await step('the chart has at least two analysis intervals', async () => {
      await page.waitForFunction(() => /^([2-9]|\d\d+) analysis/.test(document.querySelector('#chart-note').textContent));
    });
    await step('the comparison table shows the runbook\'s rows', async () => {
      await page.waitForFunction(() => document.querySelectorAll('#comparison tr td:first-child').length >= 3);
      return /Error Rate/.test(await text(page, '#comparison'));
    });
    await shot(page, '06-deployment-chart');
    await page.click('#btn-abort');
    await step('shop is shown rolled back after carol\'s abort', async () => {
      await page.waitForFunction(() => document.querySelector('#summary dd[data-field=state]')?.textContent === 'rolled_back');
    });
    check(await page.locator('#btn-abort').count() === 0, 'no abort button on a final deployment');
    await shot(page, '07-deployment-aborted');

    await page.click('[data-nav=calendar]');
    await step('the calendar shows 14 days', async () => {
      await page.waitForFunction(() => document.querySelectorAll('#calendar .day:not(.hours)').length === 14);
    });
    await step('with open windows drawn (the lab policy is open at all hours)', async () =>
      (await page.locator('#calendar .span').count()) > 0);
    await shot(page, '08-calendar');

    await page.click('[data-nav=dora]');
    await step('the DORA page shows the metrics with their targets', async () => {
      await page.waitForSelector('#dora-metrics tr[data-key]');
      return (await page.locator('#dora-metrics tr[data-key]').count()) >= 4;
    });
    await step('and the monthly chart', async () => {
      await page.waitForSelector('#chart-monthly canvas');
      await page.waitForSelector('#dora-months tr');
    });
    await shot(page, '09-dora');
    check(page.problems.length === 0, 'carol: no console or CSP error', page.problems.join('\n'));
    await context.close();
  }
} catch (e) {
  check(false, 'the browser session', e.stack);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
