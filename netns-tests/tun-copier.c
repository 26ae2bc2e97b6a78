/*
 * tun-copier: the reference point of netns-tests/bench.sh, not part of XenVMC.
 *
 * The smallest user-space path between two network namespaces: one TUN device in each, and one
 * thread per direction that read(2)s a packet from one device and write(2)s it to the other.
 * Same TUN set-up as xenvmc-guest (IFF_VNET_HDR, checksum and TSO offloads, so 64 KiB
 * super-packets and their virtio-net header cross untouched), but no rings, no second process,
 * no parsing: what any TUN-based bypass costs at the least. The issue that asked for the
 * benchmark quotes such a program at 1.15x the veth bridge path; bench.sh measures it in the
 * same run as the bridge and the bypass.
 *
 *   tun-copier NETNS1 DEV1 NETNS2 DEV2
 *
 * Creates DEV1 in /run/netns/NETNS1 and DEV2 in /run/netns/NETNS2 (not persistent: they go away
 * when the process exits), prints "ready", and copies until it is killed. The caller sets the
 * devices' addresses, MTU and routes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int open_tun(const char *netns, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "/run/netns/%s", netns);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
        fprintf(stderr, "tun-copier: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    close(nsfd);
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "tun-copier: /dev/net/tun: %s\n", strerror(errno));
        exit(1);
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
    if (strlen(name) >= IFNAMSIZ) {
        fprintf(stderr, "tun-copier: interface name %s is too long\n", name);
        exit(1);
    }
    strcpy(ifr.ifr_name, name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "tun-copier: TUNSETIFF %s in %s: %s\n", name, netns, strerror(errno));
        exit(1);
    }
    if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) < 0) {
        fprintf(stderr, "tun-copier: TUNSETOFFLOAD %s: %s\n", name, strerror(errno));
        exit(1);
    }
    return fd;
}

struct direction {
    int from, to;
};

static void *copy_packets(void *arg)
{
    const struct direction *d = arg;
    /* 10-byte virtio-net header + a 64 KiB packet. */
    static __thread char packet[65536 + 16];
    for (;;) {
        ssize_t n = read(d->from, packet, sizeof packet);
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            fprintf(stderr, "tun-copier: read: %s\n", strerror(errno));
            exit(1);
        }
        /* A write the kernel refuses (no route, a full queue) drops that packet, as a NIC would. */
        if (n > 0)
            (void)write(d->to, packet, (size_t)n);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: tun-copier NETNS1 DEV1 NETNS2 DEV2\n");
        return 2;
    }
    int a = open_tun(argv[1], argv[2]);
    int b = open_tun(argv[3], argv[4]);
    static struct direction ab, ba;
    ab.from = a; ab.to = b;
    ba.from = b; ba.to = a;
    pthread_t t1, t2;
    if (pthread_create(&t1, NULL, copy_packets, &ab) != 0 || pthread_create(&t2, NULL, copy_packets, &ba) != 0) {
        fprintf(stderr, "tun-copier: pthread_create failed\n");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    pthread_join(t1, NULL);
    return 0;
}
