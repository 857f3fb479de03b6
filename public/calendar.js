// The calendar's drag and drop: drop a post on another day to move it there (its time of day
// stays), or on an hour of the week (its minutes stay); the server checks it as an edit
// (`/api/posts/move`). A plain script rather than a wasm
// island, for the wasm budget. Without it, or from the keyboard, a post's page reschedules it.
const calendar = document.querySelector('.calendar[data-movable]');
const status = document.getElementById('calendar-status');
let dragged = null;

const say = (words, failed) => {
  status.textContent = words;
  status.className = failed ? 'form-error' : 'notice';
  status.hidden = false;
};

// What the server said was wrong (a field's message), or a sentence of our own.
const reason = (text) => {
  try {
    const error = JSON.parse(text);
    if (error.Fields) return error.Fields.map((f) => f.message).join(' ');
  } catch (_) {}
  return 'The post could not be moved. Open it to reschedule it.';
};

calendar?.addEventListener('dragstart', (event) => {
  dragged = event.target.closest?.('.entry[data-post]');
  if (!dragged) return;
  event.dataTransfer.effectAllowed = 'move';
  event.dataTransfer.setData('text/plain', dragged.dataset.post);
});

calendar?.addEventListener('dragover', (event) => {
  if (dragged && event.target.closest('.day[data-date]')) event.preventDefault();
});

calendar?.addEventListener('drop', async (event) => {
  const day = event.target.closest('.day[data-date]');
  if (!dragged || !day) return;
  event.preventDefault();
  const post = dragged.dataset.post;
  dragged = null;
  const fields = { post_id: post, day: day.dataset.date };
  const hour = event.target.closest('.slot[data-hour]');
  if (hour) fields.hour = hour.dataset.hour;
  say('Moving…', false);
  try {
    const answer = await fetch('/api/posts/move', {
      method: 'POST',
      headers: { Accept: 'application/json' },
      body: new URLSearchParams(fields),
    });
    if (answer.ok) {
      // The calendar is drawn by the server: show it as it is now, then say what happened.
      sessionStorage.setItem('crier-moved', JSON.parse(await answer.text()));
      location.reload();
    } else {
      say(reason(await answer.text()), true);
    }
  } catch (_) {
    say('Crier could not be reached; the post was not moved.', true);
  }
});

const moved = sessionStorage.getItem('crier-moved');
if (moved && status) {
  sessionStorage.removeItem('crier-moved');
  say(moved, false);
}
