/* Fixed facts of the QEMU virt board that are needed before the device tree can be read.
 * Plain #defines: boot.S includes this file. Everything else comes from the device tree. */
#pragma once

/* The PL011 used as console until the device tree names one. */
#define EARLY_UART_PHYS 0x09000000
/* Where QEMU places the device tree for a bare-metal ELF (start of RAM) when x0 holds none. */
#define DEFAULT_DTB_PHYS 0x40000000
