// The transfers screen's upload client: tus 1.0 (core, creation, termination) over fetch, no library.
// A file is sent in chunks (data-chunk bytes) from the offset the server holds; a broken connection is retried
// from the server's offset (asked with HEAD) after a pause that grows; the upload's URL is remembered per file
// (person, organisation, name, size, last change) in localStorage, so choosing the same file after a reload
// resumes it. Progress: the <progress> element per chunk, and a live text at every tenth and every change.

const TUS = "1.0.0";
const MOST_FAILURES = 30; // in a row, before the client gives up (the upload stays: choose the file again)

const form = document.getElementById("upload-form");
if (form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = form.querySelector("#sip-file").files[0];
    if (file) new Upload(form, file).run();
  });
}

class Upload {
  constructor(form, file) {
    this.form = form;
    this.file = file;
    this.chunk = Number(form.dataset.chunk);
    this.csrf = form.dataset.csrf;
    this.organisation = form.querySelector("#organisation").value;
    this.key = ["edepot-upload", form.dataset.person, this.organisation, file.name, file.size, file.lastModified]
      .join("|");
    this.progress = document.getElementById("upload-progress");
    this.status = document.getElementById("upload-status");
    this.error = document.getElementById("upload-error");
    this.done = document.getElementById("upload-done");
    this.shownTenth = -1;
    this.failures = 0;
  }

  say(name, values = {}) {
    let text = this.form.dataset[name] || name;
    for (const [key, value] of Object.entries(values)) text = text.replace(`{${key}}`, value);
    this.status.textContent = text;
  }

  fail(line) {
    this.error.textContent = line;
    this.error.hidden = false;
    this.form.querySelector("button[type=submit]").disabled = false;
  }

  request(url, method, headers = {}, body = undefined) {
    return fetch(url, {
      method, body, credentials: "same-origin", cache: "no-store",
      headers: { "Tus-Resumable": TUS, "X-CSRFToken": this.csrf, ...headers },
    });
  }

  async run() {
    this.error.hidden = true;
    this.done.hidden = true;
    this.form.querySelector("button[type=submit]").disabled = true;
    if (this.file.size > Number(this.form.dataset.max)) {
      this.fail(this.form.dataset.msgTooLarge);
      return;
    }
    try {
      let offset = await this.resumeOffset();
      if (offset === null) offset = await this.create();
      if (offset === null) return;
      await this.send(offset);
    } catch (error) {
      this.fail(`${this.form.dataset.msgStopped} (${error.message})`);
    }
  }

  // The offset of this file's upload the server holds (null: none to resume; it is started anew).
  async resumeOffset() {
    this.url = localStorage.getItem(this.key);
    if (!this.url) return null;
    const answer = await this.request(this.url, "HEAD");
    if (!answer.ok || answer.headers.get("Edepot-Refused")) {
      localStorage.removeItem(this.key);
      return null;
    }
    if (answer.headers.get("Edepot-Job")) return this.finished(answer.headers.get("Edepot-Job"));
    const offset = Number(answer.headers.get("Upload-Offset"));
    this.say("msgResumed", { percent: `${this.percent(offset)}%` });
    return offset;
  }

  async create() {
    const metadata = [["filename", this.file.name], ["organisation", this.organisation]]
      .map(([key, value]) => `${key} ${base64(value)}`).join(",");
    const answer = await this.request(this.form.dataset.endpoint, "POST",
      { "Upload-Length": String(this.file.size), "Upload-Metadata": metadata });
    if (answer.status !== 201) {
      this.fail(await answer.text());
      return null;
    }
    this.url = answer.headers.get("Location");
    localStorage.setItem(this.key, this.url);
    return 0;
  }

  // Chunks from `offset` on; at the end, an empty one asks the outcome of an upload whose answer was lost.
  async send(offset) {
    for (;;) {
      this.show(offset);
      let answer;
      try {
        answer = await this.request(this.url, "PATCH",
          { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset) },
          this.file.slice(offset, offset + this.chunk));
      } catch (broken) { // the connection broke: wait, then ask the server where it is
        offset = await this.recover();
        continue;
      }
      if (answer.status === 204) {
        this.failures = 0;
        offset = Number(answer.headers.get("Upload-Offset"));
        const job = answer.headers.get("Edepot-Job");
        if (job) return this.finished(job); // (the answer at the last offset always names the job, or refuses)
      } else if (answer.status === 409 || answer.status >= 500) {
        offset = await this.recover();
      } else {
        if (answer.status === 422 || answer.status === 404) localStorage.removeItem(this.key);
        this.progress.value = 0;
        this.say("msgRefused");
        this.fail(await answer.text());
        return null;
      }
    }
  }

  // After a failure: pause (1, 2, 4 … 30 s), then the server's offset; again while the server cannot be reached.
  async recover() {
    for (;;) {
      this.failures += 1;
      if (this.failures > MOST_FAILURES) throw new Error(this.form.dataset.msgOffline);
      const seconds = Math.min(30, 2 ** Math.min(this.failures - 1, 5));
      this.say("msgRetry", { seconds });
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      try {
        const answer = await this.request(this.url, "HEAD");
        if (answer.ok) {
          const offset = Number(answer.headers.get("Upload-Offset"));
          this.say("msgResumed", { percent: `${this.percent(offset)}%` });
          return offset;
        }
        if (answer.status < 500) throw new Error(await answer.text());
      } catch (unreachable) {
        if (!(unreachable instanceof TypeError)) throw unreachable; // TypeError: no connection yet
      }
    }
  }

  finished(job) {
    localStorage.removeItem(this.key);
    this.progress.value = 100;
    this.say("msgDone");
    document.getElementById("upload-job").href = job;
    this.done.hidden = false;
    this.form.querySelector("button[type=submit]").disabled = false;
    return null;
  }

  percent(offset) {
    return this.file.size ? Math.floor((offset * 100) / this.file.size) : 100;
  }

  show(offset) {
    const percent = this.percent(offset);
    this.progress.value = percent;
    const tenth = Math.floor(percent / 10);
    if (tenth !== this.shownTenth) {
      this.shownTenth = tenth;
      this.say("msgProgress", { done: megabytes(offset), total: megabytes(this.file.size), percent: `${percent}%` });
    }
  }
}

function megabytes(bytes) {
  return (bytes / 1048576).toFixed(1);
}

function base64(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
