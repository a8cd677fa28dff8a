// expect: {"status":"invalid","code":"IMPORT_NOT_AVAILABLE"}
import { readFileSync } from 'node:fs';
export default readFileSync('/etc/passwd', 'utf8');
