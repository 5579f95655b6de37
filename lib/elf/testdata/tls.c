// Fixture for the ELF loader tests: a program with thread-local data (.tdata and .tbss), so the
// linker emits PT_TLS. Never run; the tests check the TLS template the load plan reports.
_Thread_local int tls_counter = 42;
_Thread_local char tls_buffer[100];

void _start(void) {
    for (;;) {
        tls_counter += tls_buffer[tls_counter & 63];
    }
}
