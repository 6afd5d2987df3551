import '@testing-library/jest-dom/vitest';
import { configure } from '@testing-library/react';

// CTest runs these next to C++ builds and other suites on a 2-core machine:
// give findBy*/waitFor room (default 1 s) so a busy machine slows the tests
// down instead of failing them. A broken component still fails, just later.
configure({ asyncUtilTimeout: 10_000 });
