// Mayday's crash-report dialog, the script Sentry's `showReportDialog` loads from
// /api/embed/error-page/. The collector fills in the options (JSON) at the end;
// every text is set with textContent, never parsed as HTML.
(function (options) {
  "use strict";
  if (document.getElementById("mayday-report-dialog")) return;
  var el = function (tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  };
  var dialog = el("div", {
    id: "mayday-report-dialog", role: "dialog", "aria-modal": "true",
    "aria-labelledby": "mayday-report-title",
    style: "position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;z-index:2147483647;font:16px/1.4 system-ui,sans-serif"
  });
  var box = el("form", {
    style: "background:#fff;color:#1a1a1a;max-width:32rem;width:calc(100% - 2rem);padding:1.25rem;border-radius:8px;box-sizing:border-box"
  });
  box.appendChild(el("h2", { id: "mayday-report-title", style: "margin:0 0 .5rem;font-size:1.25rem" }, options.title));
  box.appendChild(el("p", { style: "margin:0 0 1rem" }, options.subtitle));
  var field = function (name, label, value, type) {
    var wrap = el("label", { style: "display:block;margin:0 0 .75rem" });
    wrap.appendChild(el("span", { style: "display:block;font-weight:600" }, label));
    var input = type === "textarea"
      ? el("textarea", { name: name, rows: "5", required: "required" })
      : el("input", { name: name, type: type, required: "required", value: value || "" });
    input.setAttribute("style", "width:100%;box-sizing:border-box;font:inherit;padding:.4rem;border:1px solid #767676;border-radius:4px");
    wrap.appendChild(input);
    box.appendChild(wrap);
    return input;
  };
  field("name", options.labelName, options.name, "text");
  field("email", options.labelEmail, options.email, "email");
  var comments = field("comments", options.labelComments, "", "textarea");
  var status = el("p", { role: "status", style: "margin:0 0 .75rem" });
  box.appendChild(status);
  var send = el("button", { type: "submit", style: "font:inherit;padding:.5rem 1rem;background:#1f4fbf;color:#fff;border:0;border-radius:4px" }, options.labelSubmit);
  var close = el("button", { type: "button", style: "font:inherit;padding:.5rem 1rem;margin-left:.5rem;background:#eee;color:#1a1a1a;border:1px solid #767676;border-radius:4px" }, options.labelClose);
  box.appendChild(send);
  box.appendChild(close);
  close.addEventListener("click", function () { dialog.remove(); });
  box.addEventListener("submit", function (e) {
    e.preventDefault();
    send.disabled = true;
    fetch(options.endpoint, { method: "POST", body: new URLSearchParams(new FormData(box)) })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) {
        if (answer.ok) {
          box.replaceChildren(el("p", { role: "status" }, options.successMessage), close);
          close.focus();
        } else {
          status.textContent = answer.body.detail || options.errorGeneric;
          send.disabled = false;
        }
      })
      .catch(function () { status.textContent = options.errorGeneric; send.disabled = false; });
  });
  dialog.appendChild(box);
  document.body.appendChild(dialog);
  comments.focus();
})(MAYDAY_DIALOG);
