"""The harness itself: a feedbackd that wrote a sanitizer report (an ASan build aborts on its
first error, so the request in flight sees only a dropped connection or a cut body) fails its
test at teardown with the report, whatever the requests saw."""

import pytest

from helpers import Feedbackd

REPORT = ("=================================================================\n"
          "==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010\n"
          "    #0 0x55 in stream_read server/api/export_stream.c:300\n")


def write_log(fd, text):
    with open(fd.log_path, "w") as f:
        f.write(text)


@pytest.mark.parametrize("report", [
    REPORT,
    "==4242==ERROR: LeakSanitizer: detected memory leaks\n",
    "server/api/export_stream.c:10:5: runtime error: signed integer overflow\n",
])
def test_a_sanitizer_report_fails_the_teardown(report):
    fd = Feedbackd("dbname=unused", name="harness")  # never started
    write_log(fd, 'ts=2026-12-02T16:00:00Z level=info msg="listening"\n' + report)
    with pytest.raises(AssertionError) as e:
        fd.destroy()
    assert report.strip().splitlines()[-1] in str(e.value)


def test_a_clean_log_passes():
    fd = Feedbackd("dbname=unused", name="harness")
    write_log(fd, 'ts=2026-12-02T16:00:00Z level=info msg="listening"\nlevel=info msg="stopped"\n')
    fd.destroy()
