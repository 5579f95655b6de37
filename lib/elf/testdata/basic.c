// Fixture for the ELF loader tests: a tiny freestanding program with .text, .rodata, .data and a
// .bss that spills over several pages. Never run; the tests read its load plan and bytes.
const char message[] = "tessera basic rodata";
volatile int counter = 0x5eed1234;
char buffer[3 * 4096 + 100];

void _start(void) {
    for (;;) {
        counter += buffer[counter & 0xff] + message[counter & 7];
    }
}
