/* Every page: times are shown in the browser's own time zone. */
'use strict';
document.querySelectorAll('time[datetime]').forEach(t => {
  const at = Date.parse(t.dateTime.replace(/(\.\d{3})\d*Z$/, '$1Z'));
  if (!Number.isNaN(at)) t.textContent = new Date(at).toLocaleString();
});
