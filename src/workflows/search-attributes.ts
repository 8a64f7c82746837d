/**
 * Custom search attributes Sigill sets on its workflows, for listing and filtering in Temporal.
 * They are never encrypted by a payload codec, so they hold identifiers and states only: never a name,
 * email, phone number or document content.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const organizationIdAttribute = defineSearchAttributeKey('SigillOrganizationId', SearchAttributeType.KEYWORD);
export const processStatusAttribute = defineSearchAttributeKey('SigillStatus', SearchAttributeType.KEYWORD);

export const sigillSearchAttributes = [organizationIdAttribute, processStatusAttribute];
