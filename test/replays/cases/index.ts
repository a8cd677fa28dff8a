// Every replay case, in the order the table prints them.
import type { ReplayCase } from '../case.ts';
import { BANK_CASES } from './bank.ts';
import { CALENDAR_CASES } from './calendar.ts';
import { CHAT_CASES } from './chat.ts';
import { DRIVE_CASES } from './drive.ts';
import { LAUNDERING_CASES } from './laundering.ts';
import { MAIL_CASES } from './mail.ts';
import { SUBRUN_CASES } from './subruns.ts';
import { WEB_CASES } from './web.ts';

export const CASES: readonly ReplayCase[] = [...MAIL_CASES, ...DRIVE_CASES, ...CALENDAR_CASES, ...CHAT_CASES, ...BANK_CASES, ...WEB_CASES, ...LAUNDERING_CASES, ...SUBRUN_CASES];
