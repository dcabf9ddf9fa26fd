"""What both HTML pages (grid.py's kernel grid, object_grid.py's object grid) share: the filter box that
narrows the rows, and the popup that shows a cell's hover text (reason, evidence) under the cell. Inline
in each page, so a page stays one file that works from file:// with no network."""

# The row filter and the cell popup. A cell keeps its title in the HTML (the hover text without script,
# and what the static tests read); on first hover the title moves to data-tip so the browser's own
# tooltip does not show the same text a second time over the popup.
SCRIPT = """
(function () {
  document.getElementById('filter').addEventListener('input', function () {
    var q = this.value.trim().toLowerCase();
    document.querySelectorAll('tr[data-name]').forEach(function (tr) {
      tr.style.display = !q || tr.dataset.name.indexOf(q) >= 0 ? '' : 'none';
    });
  });
  // The popup is fixed to the window (it never lengthens the page): under the cell, or above it
  // where the window ends; it follows its cell when the page scrolls.
  var tip = document.getElementById('tip'), cell = null;
  function place() {
    // Measured at the window's left edge, where it wraps least; where it last stood it may wrap more.
    tip.style.left = tip.style.top = '0px';
    var r = cell.getBoundingClientRect();
    var top = r.bottom + 2;
    if (top + tip.offsetHeight > window.innerHeight) top = Math.max(0, r.top - 2 - tip.offsetHeight);
    tip.style.top = top + 'px';
    tip.style.left = Math.max(0, Math.min(r.left, window.innerWidth - tip.offsetWidth - 4)) + 'px';
  }
  document.addEventListener('mouseover', function (ev) {
    cell = ev.target.closest('td[title], td[data-tip]');
    if (!cell) {
      tip.hidden = true;
      return;
    }
    if (cell.title) {
      cell.dataset.tip = cell.title;
      cell.removeAttribute('title');
    }
    tip.textContent = cell.dataset.tip;
    tip.hidden = false;
    place();
  });
  window.addEventListener('scroll', function () { if (!tip.hidden) place(); });
  document.documentElement.addEventListener('mouseleave', function () { tip.hidden = true; });
})();
"""

CSS = ("#filter{position:sticky;top:0;z-index:2;font-size:15px;padding:3px 6px;width:24em}"
       "#tip{position:fixed;z-index:3;max-width:40em;padding:4px 8px;background:#333;color:#fff;"
       "border-radius:3px;font-size:13px;white-space:pre-line;pointer-events:none}")


def filter_box(placeholder):
    """The filter input and the (hidden) popup element the script fills."""
    return f"<input id=filter type=search placeholder='{placeholder}'><div id=tip role=tooltip hidden></div>"
