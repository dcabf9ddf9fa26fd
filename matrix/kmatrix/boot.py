"""One QEMU (TCG) boot and the framed result sections the guest wrote to its second serial port."""

import base64
import os
import subprocess


# arm64: the virt machine has one PL011 UART (the console); results go to a virtio console (hvc0).
# pauth-impdef: TCG's pointer authentication with an implementation-defined (cheap) algorithm instead
# of QARMA, which makes a TCG guest several times slower.
ARM64_CPU = "max,pauth-impdef=on"


def qemu_command(arch, accel, cpu, vmlinuz, initrd, console, serial):
    accel_args = [a for name in accel.split(":") for a in ("-accel", name)]  # "kvm:tcg": KVM, else TCG
    common = ["-m", "1G", "-smp", "1", "-nic", "none", "-no-reboot", "-nographic", "-monitor", "none",
              "-kernel", vmlinuz, "-initrd", initrd]
    if arch == "arm64":
        return (["qemu-system-aarch64", "-M", "virt"] + accel_args + ["-cpu", ARM64_CPU] + common
                + ["-append", "console=ttyAMA0 panic=-1 quiet", "-serial", f"file:{console}",
                   "-device", "virtio-serial-pci", "-chardev", f"file,id=results,path={serial}",
                   "-device", "virtconsole,chardev=results"])
    return (["qemu-system-x86_64"] + accel_args + ["-cpu", cpu] + common
            + ["-append", "console=ttyS0 panic=-1 quiet", "-serial", f"file:{console}", "-serial", f"file:{serial}"])


def boot(vmlinuz, initrd, kdir, timeout, accel="tcg", cpu="qemu64", arch="amd64"):
    """Run QEMU; returns (exited_in_time, qemu_returncode)."""
    console, serial = os.path.join(kdir, "console.log"), os.path.join(kdir, "serial.log")
    for f in (console, serial):
        if os.path.exists(f):
            os.remove(f)
    cmd = qemu_command(arch, accel, cpu, vmlinuz, initrd, console, serial)
    with open(os.path.join(kdir, "qemu.log"), "w") as qlog:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT)
        try:
            return True, proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return False, None


def collect(kdir):
    """Parse serial.log into files under KDIR; returns ({section: rc}, saw_done)."""
    sections, done, name, body = {}, False, None, []
    path = os.path.join(kdir, "serial.log")
    text = open(path, "rb").read().decode("ascii", "replace") if os.path.exists(path) else ""
    for line in text.replace("\r", "").split("\n"):
        if line == "===DONE===":
            done = True
        elif name is None and line.startswith("===BEGIN ") and line.endswith("==="):
            name, body = line[9:-3], []
        elif name is not None and line.startswith(f"===END {name} rc="):
            target = os.path.normpath(os.path.join(kdir, name))
            if target.startswith(kdir + os.sep):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(base64.b64decode("".join(body)))
                sections[name] = int(line.rsplit("rc=", 1)[1].rstrip("="))
            name = None
        elif name is not None:
            body.append(line)
    return sections, done


def tail(path, n=30):
    if not os.path.exists(path):
        return "(no console log)"
    lines = open(path, "rb").read().decode("utf-8", "replace").replace("\r", "").splitlines()
    return "\n".join(lines[-n:])
