/*
 * The upload page: a preview of the chosen image, dropping a file anywhere on
 * the page, and a progress bar while it is sent. The server answers with the
 * same page it sends without JavaScript; its messages replace the current ones.
 */
'use strict';
(function () {
  const form = document.getElementById('upload-form');
  if (!form || !window.FormData || !window.DOMParser) return;
  const input = form.querySelector('input[type=file]');
  const preview = document.getElementById('preview');
  const progress = document.getElementById('progress');
  const button = form.querySelector('button[type=submit]');
  let previewUrl = null;

  function showPreview() {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    const file = input.files && input.files[0];
    if (!file || !file.type.startsWith('image/')) {
      preview.hidden = true;
      return;
    }
    previewUrl = URL.createObjectURL(file);
    preview.src = previewUrl;
    preview.hidden = false;
    const key = form.elements.key;
    if (!key.value) key.value = file.name;
  }
  input.addEventListener('change', showPreview);

  document.addEventListener('dragover', e => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', e => {
    if (!e.relatedTarget) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', e => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      showPreview();
    }
  });

  /* Puts the messages and the result of the answered page in place of ours. */
  function showAnswer(html) {
    const page = new DOMParser().parseFromString(html, 'text/html');
    const main = document.querySelector('main');
    main.querySelectorAll('.message').forEach(m => m.remove());
    const messages = page.querySelectorAll('main > .message');
    const heading = main.querySelector('h1');
    messages.forEach(m => heading.after(document.importNode(m, true)));
    const result = page.getElementById('upload-result');
    if (result) document.getElementById('upload-result').replaceWith(document.importNode(result, true));
    /* The answer carries the form's token; it is the same unless the cookie was new. */
    const token = page.querySelector('input[name=csrf_token]');
    if (token) form.elements.csrf_token.value = token.value;
  }

  function failed(text) {
    showAnswer(`<main><p class="message error" role="alert"></p></main>`);
    document.querySelector('main .message').textContent = text;
  }

  form.addEventListener('submit', e => {
    if (!input.files || !input.files.length) return;
    e.preventDefault();
    const maxMb = Number(form.dataset.maxMb);
    if (maxMb && input.files[0].size > maxMb * 1048576) {
      failed(`The file is larger than the limit of ${maxMb} MB; choose a smaller one.`);
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('Accept', 'text/html');
    xhr.upload.addEventListener('progress', p => {
      if (p.lengthComputable) progress.value = Math.round(100 * p.loaded / p.total);
    });
    xhr.addEventListener('load', () => {
      progress.hidden = true;
      button.disabled = false;
      if (xhr.getResponseHeader('Content-Type')?.startsWith('text/html')) showAnswer(xhr.responseText);
      else failed(`The upload failed (HTTP ${xhr.status}).`);
    });
    xhr.addEventListener('error', () => {
      progress.hidden = true;
      button.disabled = false;
      failed('The upload did not reach the server; check the connection and try again.');
    });
    progress.value = 0;
    progress.hidden = false;
    button.disabled = true;
    xhr.send(new FormData(form));
  });
})();
