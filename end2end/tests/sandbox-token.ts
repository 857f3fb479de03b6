/** The token the sandbox's control API answers to in the browser tests' `crier serve`
 * (CRIER_SANDBOX_CONTROL_TOKEN): the config starts the server with it, the specs send it. */
export const sandboxControlToken = 'e2e-sandbox-control-token';
