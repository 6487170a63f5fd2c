// What each message carries besides its text: when it was written, and whether its run was
// stopped (kept after a reload: the stored message's status says so).

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const STOPPED = "Stopped. The partial answer was kept.";

// A <time> after the author's name: the time of day, the full date on hover.
export function stamp(li, when = new Date()) {
  const date = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(date.getTime())) return;
  const time = document.createElement("time");
  time.className = "stamp";
  time.dateTime = date.toISOString();
  time.textContent = timeFormat.format(date);
  time.title = dayFormat.format(date);
  li.querySelector(".who")?.after(time);
}

// The marker of a stored answer whose run was stopped or failed.
export function storedStatus(view, message) {
  if (message.status === "aborted") view.status.textContent = STOPPED;
  else if (message.status === "failed") {
    view.status.textContent = "This answer failed before it was complete.";
    view.status.className = "status error-box";
  }
}
