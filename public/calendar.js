// The calendar's moves: drop a post on another day to move it there (its time of day stays), or
// on an hour of the week (its minutes stay), or on a free time of an account's queue (shown in the
// week; the post takes that time and joins the queue); or, from the keyboard, on a post press Alt+← / Alt+→
// for a day earlier or later and Alt+↑ / Alt+↓ for an hour (in the week) or a week (in the month).
// The server checks each move as an edit (`/api/posts/move`). A click on an empty part of a day, or
// of an hour in the week, opens Compose then. A plain script rather than a wasm island, for the wasm
// budget. Without it, a post's page reschedules it and a day's "+" opens Compose.
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

// Moves `post` to `day` (YYYY-MM-DD), at `hour` if given (and, dropped on a free time of an
// account's queue, its minute and that account, whose queue it joins); the page then shows the
// calendar as it is now, says what happened, and puts the focus back on the post.
const move = async (post, day, hour, free) => {
  const fields = { post_id: post, day };
  if (hour !== undefined) fields.hour = hour;
  if (free) Object.assign(fields, { minute: free.dataset.minute, account: free.dataset.account });
  say('Moving…', false);
  try {
    const answer = await fetch('/api/posts/move', {
      method: 'POST',
      headers: { Accept: 'application/json' },
      body: new URLSearchParams(fields),
    });
    if (answer.ok) {
      sessionStorage.setItem('crier-moved', JSON.stringify([JSON.parse(await answer.text()), post]));
      location.reload();
    } else {
      say(reason(await answer.text()), true);
    }
  } catch (_) {
    say('Crier could not be reached; the post was not moved.', true);
  }
};

// `date` (YYYY-MM-DD) moved by `days`.
const shifted = (date, days) => {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
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

calendar?.addEventListener('drop', (event) => {
  const day = event.target.closest('.day[data-date]');
  if (!dragged || !day) return;
  event.preventDefault();
  const post = dragged.dataset.post;
  dragged = null;
  move(post, day.dataset.date, event.target.closest('.slot[data-hour]')?.dataset.hour, event.target.closest('.free-slot'));
});

const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [-7, -1], ArrowDown: [7, 1] };
calendar?.addEventListener('keydown', (event) => {
  const entry = event.target.closest('.entry[data-post]');
  const step = arrows[event.key];
  if (!entry || !step || !event.altKey) return;
  event.preventDefault();
  const day = entry.closest('.day[data-date]').dataset.date;
  const slot = entry.closest('.slot[data-hour]');
  if (slot && step[1] !== 0) {
    // In the week's grid, up and down are an hour, across midnight if need be.
    const hour = Number(slot.dataset.hour) + step[1];
    const next = hour < 0 ? shifted(day, -1) : hour > 23 ? shifted(day, 1) : day;
    move(entry.dataset.post, next, String((hour + 24) % 24).padStart(2, '0'));
  } else {
    move(entry.dataset.post, shifted(day, step[0]));
  }
});

calendar?.addEventListener('click', (event) => {
  if (event.target.closest('a, button, .entry')) return;
  const day = event.target.closest('.day[data-date]');
  if (!day) return;
  const hour = event.target.closest('.slot[data-hour]')?.dataset.hour;
  location.href = `/compose?on=${day.dataset.date}${hour ? `&at=${hour}` : ''}`;
});

const moved = sessionStorage.getItem('crier-moved');
if (moved && status) {
  sessionStorage.removeItem('crier-moved');
  const [words, post] = JSON.parse(moved);
  say(words, false);
  calendar?.querySelector(`.entry[data-post="${post}"] a`)?.focus();
}
