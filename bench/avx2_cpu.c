/* A CPU without AVX-512 and VNNI, on a CPU with them: preload this into a process
 * (LD_PRELOAD) and every CPUID it executes reports the features of an AVX2/FMA3 CPU
 * (Haswell to Comet Lake, AMD before Zen 4) -- the path such a CPU takes runs natively.
 *
 * How: Linux's CPUID faulting (arch_prctl ARCH_SET_CPUID, the cpuinfo flag "cpuid_fault")
 * makes the CPUID instruction raise SIGSEGV; the handler runs the real CPUID with
 * faulting briefly off, clears the AVX-512, VNNI and AMX bits, and steps over the
 * instruction.  Per thread, inherited by threads and fork; exec resets it, and the
 * preload sets it again in the new program.  XGETBV is not trapped: code that checks the
 * OS's AVX-512 state still needs the CPUID bit, which is gone.
 *
 * Build: gcc -O2 -shared -fPIC -o avx2_cpu.so avx2_cpu.c
 * Check: LD_PRELOAD=./avx2_cpu.so grep -c avx512 /proc/cpuinfo  (the kernel's list is
 * unchanged; ask numpy: python -c "import numpy; numpy.show_runtime()").
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static struct sigaction previous;

static void mask(unsigned leaf, unsigned sub, unsigned *a, unsigned *b, unsigned *c, unsigned *d)
{
    if (leaf == 7 && sub == 0) {
        /* EBX: AVX512F 16, DQ 17, IFMA 21, PF 26, ER 27, CD 28, BW 30, VL 31 */
        *b &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) |
                (1u << 30) | (1u << 31));
        /* ECX: VBMI 1, VBMI2 6, VNNI 11, BITALG 12, VPOPCNTDQ 14 */
        *c &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
        /* EDX: 4VNNIW 2, 4FMAPS 3, VP2INTERSECT 8, AMX-BF16 22, FP16 23, AMX-TILE 24, AMX-INT8 25 */
        *d &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) |
                (1u << 25));
    } else if (leaf == 7 && sub == 1) {
        *a &= ~((1u << 4) | (1u << 5)); /* AVX-VNNI, AVX512_BF16 */
        *d &= ~((1u << 4) | (1u << 5)); /* AVX-VNNI-INT8, AVX-NE-CONVERT */
    }
}

static void on_segv(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    greg_t *r = uc->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)r[REG_RIP];
    if (ip[0] == 0x0f && ip[1] == 0xa2) {
        unsigned leaf = (unsigned)r[REG_RAX], sub = (unsigned)r[REG_RCX], a, b, c, d;
        syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
        __cpuid_count(leaf, sub, a, b, c, d);
        syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
        mask(leaf, sub, &a, &b, &c, &d);
        r[REG_RAX] = a;
        r[REG_RBX] = b;
        r[REG_RCX] = c;
        r[REG_RDX] = d;
        r[REG_RIP] += 2;
        return;
    }
    /* a real fault: let the previous handler (or the default) have it */
    sigaction(SIGSEGV, &previous, NULL);
    if (previous.sa_flags & SA_SIGINFO && previous.sa_sigaction)
        previous.sa_sigaction(sig, info, context);
    else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN)
        previous.sa_handler(sig);
}

__attribute__((constructor)) static void start(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGSEGV, &action, &previous) != 0 ||
        syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        fprintf(stderr, "avx2_cpu: this kernel or CPU cannot fault on CPUID; features unchanged\n");
        sigaction(SIGSEGV, &previous, NULL);
    }
}
