/**
 * Who must say yes before a post: the policy per platform with an idea's own jobConfig.approval (approvalPlan), and
 * for a republish, which of the platforms asked for still wait for an editor (postsNeedingApproval).
 */
import { describe, expect, it } from 'vitest';
import { approvalPlan, DEFAULT_APPROVAL_POLICY } from '../../src/config/approval';
import { postsNeedingApproval, type RecordedDecision } from '../../src/activities/republish';

const ALL = ['instagram', 'tiktok', 'youtube'] as const;

describe('approvalPlan', () => {
  it('the policy per platform, plus what the idea asks for itself, never less', () => {
    const policy = { ...DEFAULT_APPROVAL_POLICY, beforePublish: { instagram: true, tiktok: false, youtube: false } };
    expect(approvalPlan(policy, 'manual', ALL).beforePublish).toEqual(['instagram']);
    expect(approvalPlan(policy, 'manual', ALL, { beforePublish: ['youtube'] }).beforePublish).toEqual(['instagram', 'youtube']);
    // Only the platforms it posts to.
    expect(approvalPlan(policy, 'manual', ['tiktok'], { beforePublish: ['youtube'] }).beforePublish).toEqual([]);
  });
});

describe('postsNeedingApproval (a republish)', () => {
  const publish = (decision: string, platforms?: string[]): RecordedDecision => ({
    stage: 'publish',
    decision,
    ...(platforms ? { platforms } : {}),
  });

  it('a platform the policy asks for waits unless an editor approved this video for it', () => {
    // Never asked: waits, even posted there already (before the policy asked: `--again` put up a copy nobody approved).
    // A platform the policy leaves free never does.
    expect(postsNeedingApproval(['tiktok', 'youtube'], ['tiktok'], [], ['tiktok', 'youtube'])).toEqual(['tiktok']);
    // Approved for it: no wait; approved for another platform only: waits.
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], [publish('approve', ['tiktok'])], ['tiktok'])).toEqual([]);
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], [publish('approve', ['instagram'])], ['instagram', 'tiktok'])).toEqual(['tiktok']);
    // A render-stage yes is about the money, not the post.
    expect(
      postsNeedingApproval(['tiktok'], ['tiktok'], [{ stage: 'render', decision: 'approve', platforms: ['tiktok'] }], ['tiktok']),
    ).toEqual(['tiktok']);
  });

  it('the last decision covering the platform counts: rejected asks again, rejected then approved does not', () => {
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], [publish('reject', ['tiktok'])], ['tiktok'])).toEqual(['tiktok']);
    expect(
      postsNeedingApproval(['tiktok'], ['tiktok'], [publish('reject', ['tiktok']), publish('approve', ['tiktok'])], ['tiktok']),
    ).toEqual([]);
    expect(
      postsNeedingApproval(['tiktok'], ['tiktok'], [publish('approve', ['tiktok']), publish('reject', ['tiktok'])], ['tiktok']),
    ).toEqual(['tiktok']);
  });

  it("a decision from before decisions named their platforms covers the idea's plan", () => {
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], [publish('approve')], ['instagram', 'tiktok'])).toEqual([]);
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], [publish('approve')], ['instagram'])).toEqual(['tiktok']);
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], [publish('reject')], ['tiktok'])).toEqual(['tiktok']);
  });
});
