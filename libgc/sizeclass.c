/* sizeclass.c - Go's size classes and the size -> class lookup tables.
 *
 * Owns: the table of 67 object sizes (class 0 means "large object") with the
 * number of 8 KiB pages per span for each, and two lookup arrays built from it.
 * The table is Go's (runtime/sizeclasses.go, produced by mksizeclasses.go,
 * which tests/unit/test_sizeclass.c re-runs and compares): each class's span
 * keeps tail waste (span bytes % object size) within 1/8 of the span, and
 * the span bytes spent per object stay under 9/7 of any request the class
 * serves above 128 bytes (rounding is at most 15 bytes below that).  The
 * test checks these bounds for every size 1..32768.
 * Invariants:
 *   gci_class_size[c] < gci_class_size[c + 1]; sizes are multiples of 8
 *   gci_size_class(n) is the smallest class with gci_class_size >= n
 */
#include "gc_internal.h"

const uint32_t gci_class_size[GC_NUM_CLASSES] = {
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
    288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
    1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
    6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
    20480, 21760, 24576, 27264, 28672, 32768,
};

const uint8_t gci_class_pages[GC_NUM_CLASSES] = {
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4,
    5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7,
    5, 8, 3, 10, 7, 4,
};

uint8_t gci_size_to_class8[1024 / 8 + 1];
uint8_t gci_size_to_class128[(GC_MAX_SMALL - 1024) / 128 + 1];
uint32_t gci_spc_size[GC_NUM_SPANCLASSES];

void gci_sizeclass_init(void)
{
    unsigned c = 1;
    for (unsigned i = 0; i < sizeof gci_size_to_class8; i++) {
        size_t n = (size_t)i * 8;
        while (gci_class_size[c] < n)
            c++;
        gci_size_to_class8[i] = (uint8_t)c;
    }
    for (unsigned i = 0; i < sizeof gci_size_to_class128; i++) {
        size_t n = 1024 + (size_t)i * 128;
        while (gci_class_size[c] < n)
            c++;
        gci_size_to_class128[i] = (uint8_t)c;
    }
    for (unsigned spc = 0; spc < GC_NUM_SPANCLASSES; spc++)
        gci_spc_size[spc] = gci_class_size[gci_spc_class(spc)];
}
