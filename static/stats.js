/* The statistics page: five charts of the last 10 minutes, redrawn every 5 seconds. */
'use strict';
(function () {
  const WINDOW_MS = 10 * 60 * 1000;
  const REFRESH_MS = 5000;
  const MB = 1048576;
  const section = document.getElementById('charts');
  if (!section || typeof Chart === 'undefined') return;

  const series = {
    items: r => r.key_count,
    size_mb: r => r.cache_size / MB,
    requests: r => r.request_count,
    hit_rate: r => (r.hit_count + r.miss_count ? 100 * r.hit_count / (r.hit_count + r.miss_count) : null),
    miss_rate: r => (r.hit_count + r.miss_count ? 100 * r.miss_count / (r.hit_count + r.miss_count) : null),
  };
  const percent = { hit_rate: true, miss_rate: true };

  const timeLabel = ms => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  /* MariaDB gives microseconds; Date wants at most milliseconds. */
  const parseTime = at => Date.parse(at.replace(/(\.\d{3})\d*Z$/, '$1Z'));

  function makeChart(canvas) {
    const name = canvas.dataset.series;
    return new Chart(canvas, {
      type: 'line',
      data: { datasets: [{ data: [], borderColor: '#2f6fde', backgroundColor: 'rgba(47,111,222,.15)',
                           fill: true, pointRadius: 1.5, borderWidth: 2, spanGaps: false }] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        plugins: { legend: { display: false },
                   tooltip: { callbacks: { title: items => timeLabel(items[0].parsed.x) } } },
        scales: {
          x: { type: 'linear', ticks: { callback: timeLabel, maxTicksLimit: 6 } },
          y: percent[name] ? { min: 0, max: 100 } : { beginAtZero: true },
        },
      },
    });
  }

  const charts = Array.from(section.querySelectorAll('canvas')).map(makeChart);
  section.hidden = false;
  /* With the charts drawn, the table is there for whoever opens it. */
  document.getElementById('numbers')?.removeAttribute('open');

  /* Points for one series, with a gap wherever a row is missing. */
  function points(rows, value, step) {
    const out = [];
    let last = null;
    for (const r of rows) {
      const x = parseTime(r.at);
      if (last !== null && x - last > 1.5 * step) out.push({ x: last + step, y: null });
      out.push({ x, y: value(r) });
      last = x;
    }
    return out;
  }

  function usualStep(rows) {
    const gaps = [];
    for (let i = 1; i < rows.length; i++) gaps.push(parseTime(rows[i].at) - parseTime(rows[i - 1].at));
    gaps.sort((a, b) => a - b);
    return gaps.length ? gaps[Math.floor(gaps.length / 2)] : REFRESH_MS;
  }

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  function rate(part, whole) {
    return whole ? (100 * part / whole).toFixed(1) + '%' : '—';
  }

  function fillTable(rows) {
    const table = document.getElementById('stats-table');
    if (!table) return;
    const body = document.createElement('tbody');
    for (const r of rows.slice().reverse()) {
      const tr = document.createElement('tr');
      const gets = r.hit_count + r.miss_count;
      tr.append(cell(timeLabel(parseTime(r.at))), cell(r.key_count), cell((r.cache_size / MB).toFixed(2)),
                cell(r.request_count), cell(rate(r.hit_count, gets)), cell(rate(r.miss_count, gets)));
      body.append(tr);
    }
    table.tBodies[0].replaceWith(body);
  }

  function fillLine(cache) {
    const line = document.getElementById('cache-line');
    if (!line) return;
    if (!cache) {
      line.textContent = 'The cache does not answer right now.';
      return;
    }
    const policy = cache.policy === 'RR' ? 'Random Replacement' : 'Least Recently Used';
    line.textContent = `Policy ${policy}, capacity ${Math.round(cache.capacity_bytes / MB)} MB. ` +
      `Since the cache started: ${cache.requests} requests, ${cache.hits} hits, ${cache.misses} misses; ` +
      `it holds ${cache.items} items (${(cache.bytes / MB).toFixed(1)} MB).`;
  }

  async function refresh() {
    try {
      const answer = await fetch('/api/stats?minutes=10', { headers: { Accept: 'application/json' } });
      if (!answer.ok) return;
      const body = await answer.json();
      const rows = body.rows || [];
      const step = usualStep(rows);
      const now = Date.now();
      for (const chart of charts) {
        chart.data.datasets[0].data = points(rows, series[chart.canvas.dataset.series], step);
        chart.options.scales.x.min = now - WINDOW_MS;
        chart.options.scales.x.max = now;
        chart.update();
      }
      fillTable(rows);
      fillLine(body.cache);
    } catch (e) {
      /* The next refresh tries again; the page keeps what it shows. */
    }
  }

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
