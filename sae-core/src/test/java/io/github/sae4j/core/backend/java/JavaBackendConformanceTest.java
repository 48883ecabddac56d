package io.github.sae4j.core.backend.java;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.core.backend.BackendConformanceSuite;
import io.github.sae4j.core.backend.ReferenceBackend;

/** The pure-Java backend, on two threads, against the scalar reference: every fast path against its slow twin. */
class JavaBackendConformanceTest extends BackendConformanceSuite {

    @Override
    protected Backend backendUnderTest() {
        return new JavaBackend(2);
    }

    @Override
    protected Backend oracle() {
        return new ReferenceBackend();
    }
}
