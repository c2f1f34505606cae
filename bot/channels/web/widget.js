/*
 * Chat widget for the Schwerbehindertenausweis assistant. Plain JavaScript, no build step.
 *
 * Embed with one script tag:
 *   <script src="https://assistant.example/widget.js" data-title="..." data-office="..." defer></script>
 * Config attributes (all optional): data-server (default: the origin of this script), data-title,
 * data-office, data-launcher-label, data-privacy-url.
 *
 * Accessibility rules this file keeps (see docs/widget.md):
 * - Messages are appended once as complete nodes to one role="log" region; the list is never
 *   re-rendered, so a screen reader announces each new message exactly once.
 * - Restored messages are rendered before the widget is attached to the page, so they are not announced.
 * - Text from the server is only ever set with textContent; only URLs become links.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || window.__sbwLoaded) {
    return;
  }
  window.__sbwLoaded = true;

  var scriptUrl = new URL(script.src, document.baseURI);
  var config = {
    server: (script.getAttribute("data-server") || scriptUrl.origin).replace(/\/+$/, ""),
    title: script.getAttribute("data-title") || "Fragen zum Schwerbehindertenausweis",
    office: script.getAttribute("data-office") || "",
    launcherLabel: script.getAttribute("data-launcher-label") || "Chat zum Schwerbehindertenausweis",
    privacyUrl: script.getAttribute("data-privacy-url") || "",
  };
  var WEBHOOK = config.server + "/webhooks/rest/webhook";
  var REQUEST_TIMEOUT_MS = 30000;
  var MAX_STORED_MESSAGES = 200;
  // sessionStorage: the conversation ends with the browser tab (privacy). Only the text size
  // preference, which says nothing about the person's questions, lives in localStorage.
  var KEY = {
    sender: "sbw:sender",
    transcript: "sbw:transcript",
    replies: "sbw:quick-replies",
    open: "sbw:open",
    largeText: "sbw:large-text",
  };

  var TEXT = {
    you: "Sie:",
    assistant: "Assistent:",
    typing: "Assistent schreibt …",
    close: "Schließen",
    closeLabel: "Chat schließen",
    newConversation: "Neues Gespräch",
    newConversationDone: "Neues Gespräch begonnen. Der bisherige Verlauf ist gelöscht.",
    largeText: "Größere Schrift",
    inputLabel: "Ihre Frage",
    send: "Senden",
    suggestions: "Antwortvorschläge",
    log: "Gesprächsverlauf",
    newWindow: " (öffnet in neuem Fenster)",
    privacy:
      "Datenschutz: Ihre Nachrichten werden zur Beantwortung an den Server geschickt und dort " +
      "gespeichert. Für Fragen brauchen Sie keine persönlichen Daten. Bitte schreiben Sie keinen Namen " +
      "und keine Adresse. Der Verlauf bleibt nur in diesem Browser-Tab, bis Sie ihn schließen.",
    privacyLink: "Mehr zum Datenschutz",
    empty: "Bitte schreiben Sie zuerst Ihre Frage.",
    busy: "Bitte warten Sie auf die Antwort.",
    unreachable:
      "Die Nachricht konnte nicht gesendet werden. Der Assistent ist gerade nicht erreichbar. " +
      "Ihre Nachricht steht noch im Eingabefeld. Bitte versuchen Sie es später noch einmal.",
    failed:
      "Die Nachricht konnte nicht verarbeitet werden. Ihre Nachricht steht noch im Eingabefeld. " +
      "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
  };

  // ---- storage that never throws (storage can be disabled or full) ----

  function load(storage, key, fallback) {
    try {
      var raw = window[storage].getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (error) {
      return fallback;
    }
  }

  function save(storage, key, value) {
    try {
      window[storage].setItem(key, JSON.stringify(value));
    } catch (error) {
      /* the conversation still works, it just does not survive a reload */
    }
  }

  function newSenderId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return (
      "web-" +
      Array.prototype.map
        .call(bytes, function (b) {
          return ("0" + b.toString(16)).slice(-2);
        })
        .join("")
    );
  }

  // ---- DOM helpers ----

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var URL_PATTERN = /https?:\/\/[^\s<>"]+/g;
  var TRAILING_PUNCTUATION = /[.,;:!?)\]'"]+$/;

  /** Text nodes and links for a bot text; nothing from the server is ever parsed as HTML. */
  function textWithLinks(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(TRAILING_PUNCTUATION, "");
      fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, [url]);
      link.appendChild(el("span", { class: "sbw-visually-hidden" }, [TEXT.newWindow]));
      fragment.appendChild(link);
      last = offset + url.length;
      return match;
    });
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  // ---- state ----

  var state = {
    sender: load("sessionStorage", KEY.sender, null) || newSenderId(),
    transcript: load("sessionStorage", KEY.transcript, []),
    replies: load("sessionStorage", KEY.replies, []),
    open: load("sessionStorage", KEY.open, false) === true,
    largeText: load("localStorage", KEY.largeText, false) === true,
    busy: false,
  };
  if (!Array.isArray(state.transcript)) state.transcript = [];
  if (!Array.isArray(state.replies)) state.replies = [];
  save("sessionStorage", KEY.sender, state.sender);

  // ---- the widget's DOM (built once) ----

  var launcher = el("button", {
    type: "button",
    class: "sbw-launcher",
    "aria-expanded": "false",
    "aria-controls": "sbw-panel",
  }, [config.launcherLabel]);

  var title = el("h2", { id: "sbw-title", class: "sbw-title" }, [config.title]);
  var heading = el("div", { class: "sbw-heading" }, [title]);
  if (config.office) {
    heading.appendChild(el("p", { class: "sbw-office" }, [config.office]));
  }
  var largeTextButton = el("button", { type: "button", class: "sbw-tool", "aria-pressed": "false" }, [
    TEXT.largeText,
  ]);
  var newConversationButton = el("button", { type: "button", class: "sbw-tool" }, [TEXT.newConversation]);
  var closeButton = el("button", { type: "button", class: "sbw-tool", "aria-label": TEXT.closeLabel }, [
    TEXT.close,
  ]);
  var header = el("div", { class: "sbw-header" }, [
    heading,
    el("div", { class: "sbw-tools" }, [largeTextButton, newConversationButton, closeButton]),
  ]);

  var privacy = el("p", { class: "sbw-privacy" }, [TEXT.privacy]);
  if (config.privacyUrl) {
    privacy.appendChild(document.createTextNode(" "));
    privacy.appendChild(el("a", { href: config.privacyUrl }, [TEXT.privacyLink]));
  }
  var log = el("div", {
    class: "sbw-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": TEXT.log,
    tabindex: "0",
  }, [privacy]);

  var status = el("p", { class: "sbw-status", role: "status" });
  var alertBox = el("p", { class: "sbw-error", role: "alert" });
  var input = el("input", {
    id: "sbw-input",
    class: "sbw-input",
    type: "text",
    autocomplete: "off",
    enterkeyhint: "send",
  });
  var suggestions = el("div", { class: "sbw-suggestions", role: "group", "aria-label": TEXT.suggestions });
  var sendButton = el("button", { type: "submit", class: "sbw-send" }, [TEXT.send]);
  // DOM order = visual order = Tab order: input, quick replies, send button.
  var form = el("form", { class: "sbw-form", novalidate: "" }, [
    el("label", { for: "sbw-input", class: "sbw-label" }, [TEXT.inputLabel]),
    input,
    suggestions,
    el("div", { class: "sbw-actions" }, [sendButton]),
  ]);

  var panel = el("section", { id: "sbw-panel", class: "sbw-panel", "aria-labelledby": "sbw-title" }, [
    header,
    log,
    status,
    alertBox,
    form,
  ]);
  panel.hidden = true;

  var root = el("div", { class: "sbw-root", lang: "de", dir: "ltr" }, [launcher, panel]);
  root.hidden = true; // shown when the style sheet has loaded, so nothing flashes unstyled

  // ---- rendering: append only ----

  function messageNode(from, text) {
    var bot = from === "bot";
    var body = el("span", { class: "sbw-text" });
    body.appendChild(bot ? textWithLinks(text) : document.createTextNode(text));
    return el("div", { class: "sbw-msg " + (bot ? "sbw-msg--bot" : "sbw-msg--user") }, [
      el("span", { class: "sbw-from" }, [bot ? TEXT.assistant : TEXT.you]),
      document.createTextNode(" "),
      body,
    ]);
  }

  function appendMessage(from, text) {
    var node = messageNode(from, text);
    log.appendChild(node);
    return node;
  }

  /** Scroll the log (or, on small screens, the whole panel) so that `node` starts in view. */
  function scrollTo(node) {
    [log, panel].forEach(function (scroller) {
      if (scroller.scrollHeight <= scroller.clientHeight) return;
      var top = node.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
      scroller.scrollTop += top - 8;
    });
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
    panel.scrollTop = panel.scrollHeight;
  }

  function remember(from, text) {
    state.transcript.push({ from: from, text: text });
    state.transcript = state.transcript.slice(-MAX_STORED_MESSAGES);
    save("sessionStorage", KEY.transcript, state.transcript);
  }

  function showReplies(replies) {
    state.replies = replies;
    save("sessionStorage", KEY.replies, replies);
    while (suggestions.firstChild) suggestions.removeChild(suggestions.firstChild);
    replies.forEach(function (reply) {
      var button = el("button", { type: "button", class: "sbw-reply" }, [reply.title]);
      button.addEventListener("click", function () {
        input.focus();
        send(reply.payload, reply.title, false);
      });
      suggestions.appendChild(button);
    });
    suggestions.hidden = replies.length === 0;
  }

  function setLargeText(on) {
    state.largeText = on;
    root.classList.toggle("sbw-root--large", on);
    largeTextButton.setAttribute("aria-pressed", on ? "true" : "false");
    save("localStorage", KEY.largeText, on);
  }

  // ---- talking to the server ----

  function cleanReplies(buttons) {
    return (Array.isArray(buttons) ? buttons : [])
      .filter(function (b) {
        return b && typeof b.title === "string" && b.title && typeof b.payload === "string";
      })
      .map(function (b) {
        return { title: b.title, payload: b.payload };
      });
  }

  /** The quick replies of the last message that has any. */
  function repliesOf(messages) {
    var replies = [];
    messages.forEach(function (message) {
      var buttons = cleanReplies(message && message.buttons);
      if (buttons.length) replies = buttons;
    });
    return replies;
  }

  function post(message) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller && setTimeout(function () {
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    return fetch(WEBHOOK, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: message }),
      signal: controller ? controller.signal : undefined,
      credentials: "omit",
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (body) {
            return { status: response.status, body: body };
          });
      })
      .finally(function () {
        if (timer) clearTimeout(timer);
      });
  }

  function textsOf(messages) {
    return messages
      .map(function (m) {
        return (m && typeof m.text === "string" && m.text) || "";
      })
      .filter(Boolean);
  }

  /** Send `message`; show `shown` as the person's message. `typed`: it came from the input field. */
  function send(message, shown, typed) {
    if (state.busy) {
      status.textContent = TEXT.busy;
      return;
    }
    state.busy = true;
    var sender = state.sender;
    alertBox.textContent = "";
    status.textContent = TEXT.typing;
    var userNode = appendMessage("user", shown);
    scrollToEnd();
    if (typed) input.value = "";

    function notSent(text) {
      // The message did not reach the assistant: take it back out and keep it for another try.
      if (userNode.parentNode) log.removeChild(userNode);
      if (typed && !input.value) input.value = shown;
      alertBox.textContent = text;
    }

    post(message)
      .then(function (result) {
        if (state.sender !== sender) return; // a new conversation began meanwhile
        var messages = Array.isArray(result.body) ? result.body : null;
        if (result.status === 429 && messages) {
          notSent(textsOf(messages).join(" ") || TEXT.failed);
        } else if (result.status !== 200 || !messages) {
          notSent(TEXT.failed);
        } else {
          remember("user", shown);
          var first = null;
          textsOf(messages).forEach(function (text) {
            var node = appendMessage("bot", text);
            first = first || node;
            remember("bot", text);
          });
          showReplies(repliesOf(messages));
          // The start of a long answer matters more than the end; short answers show in full anyway.
          scrollToEnd();
          if (first) scrollTo(first);
        }
      })
      .catch(function () {
        if (state.sender === sender) notSent(TEXT.unreachable);
      })
      .finally(function () {
        state.busy = false;
        if (status.textContent === TEXT.typing || status.textContent === TEXT.busy) status.textContent = "";
      });
  }

  // ---- opening, closing, new conversation ----

  function setOpen(open, focusTarget) {
    state.open = open;
    save("sessionStorage", KEY.open, open);
    panel.hidden = !open;
    root.classList.toggle("sbw-root--open", open);
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) scrollToEnd();
    if (focusTarget) focusTarget.focus();
  }

  function startNewConversation() {
    state.sender = newSenderId();
    save("sessionStorage", KEY.sender, state.sender);
    state.transcript = [];
    save("sessionStorage", KEY.transcript, []);
    showReplies([]);
    Array.prototype.slice.call(log.querySelectorAll(".sbw-msg")).forEach(function (node) {
      log.removeChild(node);
    });
    alertBox.textContent = "";
    status.textContent = TEXT.newConversationDone;
    input.value = "";
    input.focus();
  }

  launcher.addEventListener("click", function () {
    if (state.open) {
      setOpen(false, launcher);
    } else {
      setOpen(true, input);
    }
  });
  closeButton.addEventListener("click", function () {
    setOpen(false, launcher);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      setOpen(false, launcher);
    }
  });
  newConversationButton.addEventListener("click", startNewConversation);
  largeTextButton.addEventListener("click", function () {
    setLargeText(!state.largeText);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    input.focus();
    if (!text) {
      status.textContent = TEXT.empty;
      return;
    }
    send(text, text, true);
  });

  // ---- start: restore first, then attach (restored messages are not announced) ----

  state.transcript.forEach(function (entry) {
    if (entry && (entry.from === "bot" || entry.from === "user") && typeof entry.text === "string") {
      log.appendChild(messageNode(entry.from, entry.text));
    }
  });
  showReplies(cleanReplies(state.replies));
  setLargeText(state.largeText);
  setOpen(state.open, null);

  var stylesheet = el("link", { rel: "stylesheet", href: new URL("widget.css", scriptUrl).href });
  stylesheet.addEventListener("load", function () {
    root.hidden = false;
    if (state.open) scrollToEnd();
  });
  stylesheet.addEventListener("error", function () {
    root.hidden = false; // unstyled but usable
  });
  document.head.appendChild(stylesheet);
  document.body.appendChild(root);
})();
