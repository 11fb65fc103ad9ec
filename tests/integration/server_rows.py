"""The report loop the server-side fail tests share (test_core_checks_fail.py,
test_ari_profiles_checks_fail.py, test_dnsupdate_server_checks_fail.py): every
task runs on a thread pool and prints "ok" or "FAIL" with its problems, and a
check without a fail row is a failure of its own."""
import concurrent.futures
import os
import time


def run_rows(bin_path, uncovered, tasks, jobs, message_cap=None):
    """tasks: (label, fn, arg), fn(arg) -> (problems, message); a task that
    raises is a failed row. uncovered: check ids that have no fail row.
    Returns the exit status (0 = every row passed)."""
    start = time.monotonic()
    if not os.access(bin_path, os.X_OK):
        print("FAIL: ACMEH_BIN %s is not executable" % bin_path)
        return 1
    passed = failed = 0
    if uncovered:
        print("FAIL  coverage: no fail row for %s" % ", ".join(uncovered))
        failed += 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = {pool.submit(fn, arg): label for label, fn, arg in tasks}
        for fut in concurrent.futures.as_completed(futs):
            label = futs[fut]
            try:
                problems, message = fut.result()
            except Exception as e:  # a row that could not run is a failed row
                problems, message = ["could not run: %s" % e], ""
            if problems:
                failed += 1
                print("FAIL  %s: %s\n      message: %s" % (label, "; ".join(problems), message[:message_cap]), flush=True)
            else:
                passed += 1
                print("ok    %s" % label, flush=True)
    print("rows took %.1f s" % (time.monotonic() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
