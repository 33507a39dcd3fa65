"""reviewer accounts, sessions, case leases and active-reviewer days

Revision ID: 0002_review
Revises: 0001
Create Date: 2026-12-03 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_review'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reviewers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('password_is_temporary', sa.Boolean(), nullable=False),
    sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True),
    sa.Column('totp_enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('subject_external_id', sa.String(length=128), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login')
    )
    op.create_table('reviewer_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('reviewer_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewer_sessions_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('review_leases',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('review_leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_leases_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_leases_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('reviewer_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], ),
    sa.PrimaryKeyConstraint('day', 'reviewer_id')
    )


def downgrade() -> None:
    op.drop_table('reviewer_days')
    with op.batch_alter_table('review_leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_leases_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_review_leases_expires_at'))
    op.drop_table('review_leases')
    with op.batch_alter_table('reviewer_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewer_sessions_reviewer_id'))
    op.drop_table('reviewer_sessions')
    op.drop_table('reviewers')
