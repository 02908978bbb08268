module.exports = 'core'
