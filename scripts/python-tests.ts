// Runs the Python host's unittest suite with a Python that has numpy and scikit-learn.
import { spawnSync } from 'node:child_process';
import { findPython, missingPythonAdvice, PYTHON_PACKAGE_DIR } from '../src/runtime/local/index.ts';

const required = ['numpy', 'sklearn', 'joblib'];
const python = findPython(required, process.env);
if (python === null) {
  console.error(`python tests: ${missingPythonAdvice(required)}`);
  process.exit(1);
}
const result = spawnSync(python.executable, ['-m', 'unittest', 'discover', '-v', '-s', 'tests', '-t', '.'], {
  cwd: PYTHON_PACKAGE_DIR,
  stdio: 'inherit',
  env: { ...process.env, PYTHONPATH: PYTHON_PACKAGE_DIR, TRANTOR_PYTHON: python.executable },
});
process.exit(result.status ?? 1);
