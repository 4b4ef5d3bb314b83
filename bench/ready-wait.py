#!/usr/bin/python3
"""The notification socket for systemd-nspawn --notify-ready=yes: nspawn says READY=1 to its
$NOTIFY_SOCKET when the container's PID 1 does, which systemd does when the boot is done
("Startup finished"). Waits for that and prints CLOCK_REALTIME in ns at its arrival.

    ready-wait.py SOCKET TIMEOUT_S        (prints "ready NS", or "timeout" and exits 1)
"""
import os
import socket
import sys
import time


def main():
    path, timeout = sys.argv[1], float(sys.argv[2])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print("timeout", flush=True)
            sys.exit(1)
        s.settimeout(left)
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        if b"READY=1" in msg.split(b"\n"):
            print(f"ready {time.time_ns()}", flush=True)
            return


if __name__ == "__main__":
    os.umask(0o077)
    main()
