"""The terminal in the page: kubectl commands typed in the browser, run against the simulated API."""
