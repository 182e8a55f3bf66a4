/**
 * Who must say yes before a post: the policy per platform with an idea's own jobConfig.approval (approvalPlan), and
 * for a republish, which of the platforms asked for still wait for an editor (postsNeedingApproval).
 */
import { describe, expect, it } from 'vitest';
import { approvalPlan, DEFAULT_APPROVAL_POLICY, postsNeedingApproval, type RecordedDecision } from '../../src/config/approval';

const ALL = ['instagram', 'tiktok', 'youtube'] as const;

describe('approvalPlan', () => {
  it('the policy per platform, plus what the idea asks for itself, never less', () => {
    const policy = { ...DEFAULT_APPROVAL_POLICY, beforePublish: { instagram: true, tiktok: false, youtube: false } };
    expect(approvalPlan(policy, 'manual', ALL).beforePublish).toEqual(['instagram']);
    expect(approvalPlan(policy, 'manual', ALL, { beforePublish: ['youtube'] }).beforePublish).toEqual(['instagram', 'youtube']);
    // Only the platforms it posts to.
    expect(approvalPlan(policy, 'manual', ['tiktok'], { beforePublish: ['youtube'] }).beforePublish).toEqual([]);
  });

  it('a platform an editor rejected waits again though the policy no longer asks (a retry, a looser policy)', () => {
    const rejected = { decisions: [{ stage: 'publish', decision: 'reject', platforms: ['tiktok'] }], planned: ['tiktok' as const] };
    expect(approvalPlan(DEFAULT_APPROVAL_POLICY, 'manual', ALL, {}, rejected).beforePublish).toEqual(['tiktok']);
    // Approved after the reject: the editor's last word holds.
    const approved = { ...rejected, decisions: [...rejected.decisions, { stage: 'publish', decision: 'approve', platforms: ['tiktok'] }] };
    expect(approvalPlan(DEFAULT_APPROVAL_POLICY, 'manual', ALL, {}, approved).beforePublish).toEqual([]);
    // A rejected brief is about the render, not a post.
    const brief = { decisions: [{ stage: 'render', decision: 'reject' }], planned: ['tiktok' as const] };
    expect(approvalPlan(DEFAULT_APPROVAL_POLICY, 'manual', ALL, {}, brief).beforePublish).toEqual([]);
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
    expect(postsNeedingApproval(['tiktok', 'youtube'], ['tiktok'], { decisions: [], planned: ['tiktok', 'youtube'] })).toEqual(['tiktok']);
    // Approved for it: no wait; approved for another platform only: waits.
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], { decisions: [publish('approve', ['tiktok'])], planned: ['tiktok'] })).toEqual([]);
    expect(
      postsNeedingApproval(['tiktok'], ['tiktok'], { decisions: [publish('approve', ['instagram'])], planned: ['instagram', 'tiktok'] }),
    ).toEqual(['tiktok']);
    // A render-stage yes is about the money, not the post.
    expect(
      postsNeedingApproval(['tiktok'], ['tiktok'], {
        decisions: [{ stage: 'render', decision: 'approve', platforms: ['tiktok'] }],
        planned: ['tiktok'],
      }),
    ).toEqual(['tiktok']);
  });

  it('the last decision covering the platform counts: rejected asks again, rejected then approved does not', () => {
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], { decisions: [publish('reject', ['tiktok'])], planned: ['tiktok'] })).toEqual([
      'tiktok',
    ]);
    expect(
      postsNeedingApproval(['tiktok'], ['tiktok'], {
        decisions: [publish('reject', ['tiktok']), publish('approve', ['tiktok'])],
        planned: ['tiktok'],
      }),
    ).toEqual([]);
    expect(
      postsNeedingApproval(['tiktok'], ['tiktok'], {
        decisions: [publish('approve', ['tiktok']), publish('reject', ['tiktok'])],
        planned: ['tiktok'],
      }),
    ).toEqual(['tiktok']);
  });

  it("a decision from before decisions named their platforms covers the idea's plan", () => {
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], { decisions: [publish('approve')], planned: ['instagram', 'tiktok'] })).toEqual([]);
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], { decisions: [publish('approve')], planned: ['instagram'] })).toEqual(['tiktok']);
    expect(postsNeedingApproval(['tiktok'], ['tiktok'], { decisions: [publish('reject')], planned: ['tiktok'] })).toEqual(['tiktok']);
  });
});
