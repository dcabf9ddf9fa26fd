#!/bin/sh
# The matrix guest's /init (matrix/kmatrix/initramfs.py fills in the placeholders): sets up the guest,
# runs the payload and reports framed, base64-encoded sections on the results port (ttyS1; hvc0 on arm64).
export PATH=@BIN@:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
export BPFPROBE=@BIN@/bpfprobe BPFPROBE_CLI=@BIN@/bpfprobe
OUT=@OUT@
LIMIT=@LIMIT@
mkdir -p /proc && mount -t proc proc /proc
BOOTED=$(cut -d' ' -f1 /proc/uptime)  # seconds from kernel start to /init

fs() {  # fstype mountpoint
    mkdir -p "$2" 2>/dev/null
    if mount -t "$1" "$1" "$2" 2>/tmp/err; then echo "mount $1 $2: ok"
    else echo "mount $1 $2: FAILED $(cat /tmp/err)"; fi
}

setup() {
    grep -q ' /proc proc ' /proc/mounts && echo "mount proc /proc: ok" || fs proc /proc
    fs sysfs /sys; fs devtmpfs /dev  # / is the writable initramfs: no tmpfs needed
    fs bpf /sys/fs/bpf; fs tracefs /sys/kernel/tracing; fs debugfs /sys/kernel/debug
    fs securityfs /sys/kernel/security; fs cgroup2 /sys/fs/cgroup
    ip link set lo up && echo "lo: up" || echo "lo: FAILED"
    while read -r name file; do
        if insmod "$file" 2>/tmp/err; then echo "module $name: loaded"
        else echo "module $name: FAILED $(cat /tmp/err)"; fi
    done < /etc/bpfprobe/modules.list
}

emit() {  # section rc file -- one framed, base64-encoded section on the results port
    { echo "===BEGIN $1==="; base64 < "$3"; echo "===END $1 rc=$2==="; } > $OUT
}

now() { cut -d' ' -f1 /proc/uptime; }
stamp() {  # name start -- guest seconds for one step, collected in times.txt
    echo "$1 $2 $(now)" >> /tmp/times.txt
}

facts() {
    echo "release: $(uname -r)"
    echo "cmdline: $(cat /proc/cmdline)"
    for f in /sys/kernel/btf/vmlinux /proc/sys/kernel/unprivileged_bpf_disabled \
             /proc/sys/net/core/bpf_jit_enable /sys/kernel/security/lockdown; do
        if [ -e "$f" ]; then
            case "$f" in */vmlinux) echo "$f: present";; *) echo "$f: $(cat $f)";; esac
        else echo "$f: absent"; fi
    done
    echo "module btf: $(ls /sys/kernel/btf | grep -v '^vmlinux$' | tr '\n' ' ')"
    echo "loaded modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
}

stty -F $OUT raw -echo 2>/dev/null
echo "boot 0 $BOOTED" > /tmp/times.txt
t=$(now); setup > /tmp/setup.log 2>&1; stamp setup $t
emit setup.log 0 /tmp/setup.log
uname -r > /tmp/o; emit uname.txt $? /tmp/o
facts > /tmp/o 2>&1; emit facts.txt 0 /tmp/o

echo "matrix: bpftool feature probe"
t=$(now)
timeout -s KILL $LIMIT bpftool -j feature probe kernel full > /tmp/o 2> /tmp/e; rc=$?
stamp bpftool $t
emit bpftool.json $rc /tmp/o; emit bpftool.stderr $rc /tmp/e
if [ -x @BIN@/bpfprobe ]; then
    # --calibrate: the calibration facts (attach and fire) are decided and checked in every guest too.
    echo "matrix: bpfprobe --report --json --calibrate"
    t=$(now)
    timeout -s KILL $LIMIT bpfprobe --report --json --calibrate > /tmp/o 2> /tmp/e; rc=$?
    stamp bpfprobe $t
    emit report.json $rc /tmp/o; emit report.stderr $rc /tmp/e
    # Again, now that the first run has filled the verdict cache: statuses must be the same.
    echo "matrix: bpfprobe --report --json --calibrate (warm)"
    t=$(now)
    timeout -s KILL $LIMIT bpfprobe --report --json --calibrate > /tmp/o 2> /tmp/e; rc=$?
    stamp bpfprobe-warm $t
    emit report-warm.json $rc /tmp/o; emit report-warm.stderr $rc /tmp/e
    # User objects (run.py --object): trial loads, then the static prediction alone.
    set -- @OBJECTS@/*
    if [ -e "$1" ]; then
        echo "matrix: bpfprobe check ($# objects)"
        t=$(now)
        timeout -s KILL $LIMIT bpfprobe check --json "$@" > /tmp/o 2> /tmp/e; rc=$?
        stamp check $t
        emit check.json $rc /tmp/o; emit check.stderr $rc /tmp/e
        timeout -s KILL $LIMIT bpfprobe check --no-load --json "$@" > /tmp/o 2> /tmp/e; rc=$?
        emit check-static.json $rc /tmp/o; emit check-static.stderr $rc /tmp/e
        # This kernel's snapshot: on the host, `check --target` with it must predict what
        # check-static.json says here (kmatrix/consistency.py, target_vs_guest).
        t=$(now)
        timeout -s KILL $LIMIT bpfprobe snapshot -o /tmp/kernel.snap > /tmp/o 2> /tmp/e; rc=$?
        stamp snapshot $t
        [ -f /tmp/kernel.snap ] && emit snapshot.snap $rc /tmp/kernel.snap
        emit snapshot.stderr $rc /tmp/e
        # snapshot_kernel_tests reads this one instead of making its own.
        [ $rc -eq 0 ] && export BPFPROBE_TEST_SNAPSHOT=/tmp/kernel.snap
    fi
fi
# tests.list: NAME<TAB>gtest filter (empty: all tests)
while IFS='	' read -r name filter; do
    t=$(now)
    echo "matrix: test $name ${filter:+--gtest_filter=$filter}"
    rm -f /tmp/gtest.json
    (cd /tmp && timeout -s KILL $LIMIT @TESTS@/$name --gtest_output=json:/tmp/gtest.json \
        ${filter:+--gtest_filter=$filter} < /dev/null) > /tmp/o 2>&1; rc=$?
    stamp "test:$name" $t
    emit "tests/$name.log" $rc /tmp/o
    [ -f /tmp/gtest.json ] && emit "tests/$name.json" $rc /tmp/gtest.json
done < /etc/bpfprobe/tests.list
emit times.txt 0 /tmp/times.txt
echo "===DONE===" > $OUT
echo "matrix: done, powering off"
poweroff -f
echo o > /proc/sysrq-trigger
sleep 10
