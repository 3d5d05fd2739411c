// Markdown for chat answers: highlighted code under a header bar, tables that scroll, and
// updates that touch only the blocks that changed (so a growing answer never flickers).
"use strict";

const ChatMarkdown = (() => {
  const md = window.markdownit({ html: false, linkify: true, breaks: true });
  const escape = md.utils.escapeHtml;
  const PLAIN = "text";

  function languageOf(info) {
    return (info || "").trim().split(/\s+/)[0].toLowerCase();
  }

  // A fence still being written is a fence to markdown-it too, so it is highlighted as it grows.
  md.renderer.rules.fence = (tokens, index) => {
    const token = tokens[index];
    const language = languageOf(token.info);
    const known = language && window.hljs && window.hljs.getLanguage(language);
    const code = known
      ? window.hljs.highlight(token.content, { language, ignoreIllegals: true }).value
      : escape(token.content);
    const codeClass = known ? `hljs language-${escape(language)}` : "hljs";
    return (
      `<div class="code-block"><div class="code-head"><span class="code-lang">${escape(language || PLAIN)}</span></div>` +
      `<pre><code class="${codeClass}">${code}</code></pre></div>\n`
    );
  };
  md.renderer.rules.table_open = () => '<div class="table-wrap"><table>\n';
  md.renderer.rules.table_close = () => "</table></div>\n";

  const sources = new WeakMap(); // top-level node -> the sanitized HTML it was built from

  function sourceOf(node) {
    return node.nodeType === Node.ELEMENT_NODE ? node.outerHTML : `#text:${node.textContent}`;
  }

  function decorate(node) {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    for (const link of node.querySelectorAll("a")) {
      link.target = "_blank";
      link.rel = "noopener noreferrer nofollow";
    }
    const blocks = node.matches(".code-block") ? [node] : node.querySelectorAll(".code-block");
    for (const block of blocks) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "small ghost copy-code";
      button.textContent = "Copy";
      button.setAttribute("aria-label", `Copy ${block.querySelector(".code-lang").textContent} code`);
      button.addEventListener("click", () => ML.copyText(block.querySelector("code").textContent, button));
      block.querySelector(".code-head").append(button);
    }
  }

  function sameCodeBlock(old, fresh) {
    return (
      old.nodeType === Node.ELEMENT_NODE && fresh.nodeType === Node.ELEMENT_NODE &&
      old.matches(".code-block") && fresh.matches(".code-block") &&
      old.querySelector(".code-lang").textContent === fresh.querySelector(".code-lang").textContent
    );
  }

  function render(element, text) {
    // markdown-it escapes raw HTML (html: false); DOMPurify is a second line of defence.
    const template = document.createElement("template");
    template.innerHTML = DOMPurify.sanitize(md.render(text), { USE_PROFILES: { html: true } });
    const next = [...template.content.childNodes];
    const previous = [...element.childNodes];
    let kept = 0;
    for (; kept < next.length && kept < previous.length; kept += 1) {
      const [old, fresh] = [previous[kept], next[kept]];
      if (sources.get(old) === sourceOf(fresh)) continue;
      // A growing code block keeps its header and Copy button; only the code is swapped.
      if (!sameCodeBlock(old, fresh)) break;
      old.querySelector("pre").replaceWith(fresh.querySelector("pre"));
      sources.set(old, sourceOf(fresh));
    }
    for (const node of previous.slice(kept)) node.remove();
    next.splice(0, kept);
    for (const node of next) {
      sources.set(node, sourceOf(node));
      decorate(node);
      element.append(node);
    }
  }

  return { render };
})();
