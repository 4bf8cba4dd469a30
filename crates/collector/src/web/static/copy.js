// Copy buttons: a button with `data-copy` puts its value on the clipboard.
document.querySelectorAll('[data-copy]').forEach(function (button) {
  button.addEventListener('click', function () {
    navigator.clipboard.writeText(button.dataset.copy).then(function () { button.textContent = 'Copied'; });
  });
});
